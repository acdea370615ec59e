/** The session store on the embedded store (SQLite). */
import { defineSessionSuite } from "./sessions-suite.js";

defineSessionSuite("sqlite");
