/**
 * The broker suite's fixture, one per store kind: a broker started in-process on that store (log lines
 * captured), the sandbox as the NCP cloud, stand-ins for STS, the EKS API and an EKS cluster, and the
 * helpers every route group uses. {@link defineBrokerSuite} (../suite.ts) runs every group on it.
 */
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { call, captureLines, testStores, type Answer, type StoreKind, type TestStores } from "../helpers.js";
import { generateSandboxKey } from "../../../src/sandbox/keys.js";
import { get as httpsGet } from "node:https";
import { randomBytes } from "node:crypto";
import { startBearerCluster, startEksApi, startSts, verifyEksTokenByHand, type LocalServer, type StsIssued } from "../../aws/stand-ins.js";
import { startBroker, type RunningBroker } from "../../../src/broker/serve.js";
import { startSandbox, type Sandbox, type SandboxClusterSummary } from "../../../src/sandbox/index.js";

/** The AWS side of the suite: keys the broker holds, the role they may assume, and the role's keys as STS hands them out. */
export const AWS_BASE_AK = "AKIDBROKERBASE000001";
export const AWS_BASE_SECRET = randomBytes(24).toString("hex");
export const AWS_ROLE_ARN = "arn:aws:iam::123456789012:role/eks-fleet";
export const AWS_EXTERNAL_ID = "fleet-external-7f3a";
export const AWS_ROLE_KEYS: StsIssued[] = [0, 1, 2, 3].map((i) => ({
  accessKeyId: `ASIAROLEKEY00000000${i}`,
  secretAccessKey: randomBytes(24).toString("hex"),
  sessionToken: `role-session-${i}-${randomBytes(16).toString("hex")}`,
  expiration: "",
}));

export const TOKEN_RE = /^kbi_[A-Za-z0-9_-]{43}$/;

/** GET /version at a TLS cluster stand-in with a bearer token, trusting its CA: the status. */
export function clusterVersionStatus(url: string, caData: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(`${url}/version`, { ca: Buffer.from(caData, "base64").toString(), headers: { authorization: `Bearer ${token}` }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** What every route group of the suite reads: the running broker, its clouds, and the helpers. */
export interface BrokerFixture {
  readonly kind: StoreKind;
  readonly stores: TestStores;
  readonly sandbox: Sandbox;
  readonly broker: RunningBroker;
  /** The bootstrap admin's broker token. */
  readonly admin: string;
  /** The broker's URL. */
  readonly base: string;
  /** The broker's log lines. */
  readonly log: ReturnType<typeof captureLines>;
  readonly masterKey: Buffer;
  /** Every secret and token seen: none may appear in a log line, an error or the audit trail. */
  readonly secrets: string[];
  /** When set, the broker's clock (and the AWS stand-ins') stands still at this time. */
  frozen: number | undefined;
  /** Two running sandbox clusters. */
  readonly running: SandboxClusterSummary;
  readonly other: SandboxClusterSummary;
  readonly sts: LocalServer & { assumed: Record<string, string>[] };
  readonly eksApi: LocalServer;
  readonly eksCluster: Awaited<ReturnType<typeof startBearerCluster>>;
  /** The role keys STS handed out, in order. */
  readonly roleKeysIssued: StsIssued[];
  /** The role's keys by access key id: the only keys the EKS stand-ins accept. */
  readonly roleSecrets: Record<string, string>;
  readonly mainDb: string;
  /** A second key of the sandbox's ring. */
  readonly secondKey: ReturnType<typeof generateSandboxKey>;
  /** Broker tokens of the users the suite made, by name. */
  readonly userTokens: Map<string, string>;
  /** The broker token of a user made earlier in the suite. */
  userToken(name: string): string;
  addCredential(name: string): Promise<Answer>;
  addCluster(name: string, credential: string, c: SandboxClusterSummary, extra?: Record<string, unknown>): Promise<Answer>;
  /** Makes a user and returns their broker token (remembered as a secret and by name). */
  addUser(name: string, role?: string): Promise<string>;
  /** Asserts the one error shape: status, code, a message, and no secret in the answer. */
  assertError(r: { status: number; json: any; text: string }, status: number, code: string, message?: RegExp): void;
  /** The audit entries a query of GET /v1/audit answers (as the admin). */
  auditOf(query: string): Promise<any[]>;
}

/**
 * Starts the fixture's servers before the store kind's tests and stops them after.
 *
 * @example
 * ```ts
 * const f = brokerFixture("sqlite");
 * test("…", async () => { const { base, admin } = f; … });
 * ```
 */
export function brokerFixture(kind: StoreKind): BrokerFixture {
  let stores: TestStores;
  let sandbox: Sandbox;
  let broker: RunningBroker;
  let admin: string;
  let base: string;
  const log = captureLines();
  const masterKey = randomBytes(32);
  /** Every secret and token seen in this file: none may appear in a log line. */
  const secrets: string[] = [];
  /** When set, the broker's clock stands still (the rate-limit test needs one second to last). */
  let frozen: number | undefined;
  let running: SandboxClusterSummary;
  let other: SandboxClusterSummary;
  let sts: LocalServer & { assumed: Record<string, string>[] };
  let eksApi: LocalServer;
  let eksCluster: Awaited<ReturnType<typeof startBearerCluster>>;
  /** Each AssumeRole's answer expires an hour after the broker's clock at that moment. */
  const roleKeysIssued: StsIssued[] = [];
  /** The role's keys only: the held base keys must never sign an EKS call or token. */
  const roleSecrets: Record<string, string> = {};
  let mainDb: string;
  /** A second key of the sandbox's ring (the first is sandbox.accessKey), to replace a credential with. */
  const secondKey = generateSandboxKey("second-admin");
  const userTokens = new Map<string, string>();

  before(async () => {
    stores = await testStores(kind);
    sandbox = await startSandbox({ keys: [generateSandboxKey("sandbox-admin"), secondKey] });
    secrets.push(sandbox.secretKey);
    const [a, b] = sandbox.clusters.filter((c) => c.status === "RUNNING");
    assert.ok(a && b, "the sandbox runs two clusters");
    running = a;
    other = b;
    for (const k of AWS_ROLE_KEYS) roleSecrets[k.accessKeyId] = k.secretAccessKey;
    sts = await startSts({
      keys: { [AWS_BASE_AK]: AWS_BASE_SECRET },
      roles: { [AWS_ROLE_ARN]: { externalId: AWS_EXTERNAL_ID } },
      issue: (_form, n) => {
        const keys = AWS_ROLE_KEYS[n];
        if (keys === undefined) throw new Error("the suite hands out four role sessions at most");
        const issued = { ...keys, expiration: new Date((frozen ?? Date.now()) + 3_600_000).toISOString() };
        roleKeysIssued.push(issued);
        return issued;
      },
    });
    eksCluster = await startBearerCluster((token) => {
      try {
        verifyEksTokenByHand(token, { secretFor: (k) => roleSecrets[k], clusterName: "fleet-eks", now: frozen ?? Date.now() });
        return undefined;
      } catch (e) {
        return String(e);
      }
    });
    eksApi = await startEksApi({
      keys: roleSecrets,
      clusters: [{ name: "fleet-eks", arn: "arn:aws:eks:us-east-2:123456789012:cluster/fleet-eks", status: "ACTIVE", version: "1.32", endpoint: eksCluster.url, certificateAuthority: { data: eksCluster.caData } }],
    });
    mainDb = await stores.newDb("main");
    broker = await startBroker({
      db: mainDb,
      listen: "127.0.0.1:0",
      masterKey: masterKey.toString("base64"),
      home: stores.dir,
      cwd: stores.dir,
      logStream: log.stream,
      rateLimit: 20,
      instance: `test-${kind}`,
      now: () => frozen ?? Date.now(),
      cloud: { eksEndpoint: eksApi.url, stsEndpoint: sts.url, env: {} },
    });
    assert.ok(broker.adminToken, "the first start creates an admin");
    admin = broker.adminToken;
    secrets.push(admin, secondKey.secretKey);
    // After the admin's: tests find alice's token as the first kbi_ token past index 1.
    secrets.push(AWS_BASE_SECRET, AWS_EXTERNAL_ID, ...AWS_ROLE_KEYS.flatMap((k) => [k.secretAccessKey, k.sessionToken]));
    base = broker.url;
  });
  after(async () => {
    await broker?.close();
    await Promise.all([sandbox?.close(), sts?.close(), eksApi?.close(), eksCluster?.close()]);
    await stores?.close();
  });

  const addCredential = (name: string) =>
    call(base, "POST", "/v1/credentials", {
      token: admin,
      body: { name, provider: "ncp", ncp: { accessKey: sandbox.accessKey, secretKey: sandbox.secretKey, apiUrl: sandbox.apiUrl } },
    });
  const addCluster = (name: string, credential: string, c: SandboxClusterSummary, extra: Record<string, unknown> = {}) =>
    call(base, "POST", "/v1/clusters", { token: admin, body: { name, credential, region: c.region, ncp: { clusterUuid: c.uuid }, ...extra } });
  const addUser = async (name: string, role = "user"): Promise<string> => {
    const r = await call(base, "POST", "/v1/users", { token: admin, body: { name, role } });
    assert.equal(r.status, 201, r.text);
    secrets.push(r.json.token);
    userTokens.set(name, r.json.token as string);
    return r.json.token as string;
  };
  const assertError = (r: { status: number; json: any; text: string }, status: number, code: string, message?: RegExp) => {
    assert.equal(r.status, status, r.text);
    assert.deepEqual(Object.keys(r.json), ["error"]);
    assert.equal(r.json.error.code, code);
    assert.equal(typeof r.json.error.message, "string");
    if (message) assert.match(r.json.error.message, message);
    for (const s of secrets) assert.ok(!r.text.includes(s), "no secret in an error");
  };
  const auditOf = async (query: string) => (await call(base, "GET", `/v1/audit?${query}`, { token: admin })).json.entries as any[];
  return {
    kind,
    get stores() { return stores; },
    get sandbox() { return sandbox; },
    get broker() { return broker; },
    get admin() { return admin; },
    get base() { return base; },
    log,
    masterKey,
    secrets,
    get frozen() { return frozen; },
    set frozen(at: number | undefined) { frozen = at; },
    get running() { return running; },
    get other() { return other; },
    get sts() { return sts; },
    get eksApi() { return eksApi; },
    get eksCluster() { return eksCluster; },
    roleKeysIssued,
    roleSecrets,
    get mainDb() { return mainDb; },
    secondKey,
    userTokens,
    userToken(name: string): string {
      const token = userTokens.get(name);
      if (token === undefined) throw new Error(`the suite has made no user ${name} yet: the groups run in order (../suite.ts)`);
      return token;
    },
    addCredential,
    addCluster,
    addUser,
    assertError,
    auditOf,
  };
}
