/** The chained audit trail on the embedded store. */
import { defineAuditTrailSuite } from "./audit-trail-suite.js";

defineAuditTrailSuite("sqlite");
