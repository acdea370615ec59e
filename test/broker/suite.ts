/**
 * The broker's suite, run once per store (broker-sqlite.test.ts, broker-postgres.test.ts): one broker
 * started in-process on that store with the sandbox as the cloud (suite/fixture.ts), and every route
 * group's tests against it, in order (a group may use what the ones before it made). Log lines are
 * captured and checked for secrets at the end.
 */
import type { StoreKind } from "./helpers.js";
import { accessTests } from "./suite/access.js";
import { auditFailureTests } from "./suite/audit-failures.js";
import { auditTests } from "./suite/audit.js";
import { awsTests } from "./suite/aws.js";
import { clusterTests } from "./suite/clusters.js";
import { credentialUpdateTests } from "./suite/credential-update.js";
import { credentialTests } from "./suite/credentials.js";
import { brokerFixture, type BrokerFixture } from "./suite/fixture.js";
import { limitTests } from "./suite/limits.js";
import { opsTests } from "./suite/ops.js";
import { shapeTests } from "./suite/shapes.js";
import { spiderTests } from "./suite/spider.js";
import { storeTests } from "./suite/store.js";
import { tokenTests } from "./suite/tokens.js";
import { upgradeTests } from "./suite/upgrade.js";
import { userTests } from "./suite/users.js";

/** The route groups, in the order they run on each store; `opsTests` last (it stops the store). */
export const BROKER_SUITE_GROUPS: readonly ((f: BrokerFixture) => void)[] = [
  storeTests,
  accessTests,
  shapeTests,
  credentialTests,
  clusterTests,
  userTests,
  tokenTests,
  spiderTests,
  credentialUpdateTests,
  auditFailureTests,
  auditTests,
  limitTests,
  awsTests,
  upgradeTests,
  opsTests,
];

/**
 * Defines every group of the suite for one store kind; each store's test file calls it once, so both
 * stores run every group.
 *
 * @example
 * ```ts
 * defineBrokerSuite("postgres");
 * ```
 */
export function defineBrokerSuite(kind: StoreKind): void {
  const f = brokerFixture(kind);
  for (const group of BROKER_SUITE_GROUPS) group(f);
}
