/** The chained audit trail on PostgreSQL (a throwaway server started for this file). */
import { defineAuditTrailSuite } from "./audit-trail-suite.js";

defineAuditTrailSuite("postgres");
