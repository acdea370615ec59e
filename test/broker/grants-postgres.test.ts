/** The grants suite on PostgreSQL (a throwaway server). */
import { defineGrantsSuite } from "./grants-suite.js";

defineGrantsSuite("postgres");
