/** The broker suite on PostgreSQL (a throwaway server started for this file). */
import { defineBrokerSuite } from "./suite.js";

defineBrokerSuite("postgres");
