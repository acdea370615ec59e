/** The broker suite on the embedded store (SQLite). */
import { defineBrokerSuite } from "./suite.js";

defineBrokerSuite("sqlite");
