/** The session store on PostgreSQL. */
import { defineSessionSuite } from "./sessions-suite.js";

defineSessionSuite("postgres");
