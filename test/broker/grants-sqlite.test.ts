/** The grants suite on the embedded store. */
import { defineGrantsSuite } from "./grants-suite.js";

defineGrantsSuite("sqlite");
