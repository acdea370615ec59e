/**
 * The package as its users import it: `from "kubeiam"` resolves through package.json "exports"
 * to dist/index.js (built by `npm run build`, which `pretest` runs), not to src/.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as kubeiam from "kubeiam";
import {
  ErrorCode,
  KubeiamError,
  decodeNcpToken,
  formatExecCredential,
  createNcpSigner,
  mintNcpToken,
  ncpStage,
  parseNcpTokenTarget,
  signNcpRequest,
  verifyNcpToken,
} from "kubeiam";

test('"kubeiam" resolves to the built dist/index.js through the exports map', () => {
  const resolved = fileURLToPath(import.meta.resolve("kubeiam"));
  assert.ok(resolved.endsWith("/dist/index.js"), resolved);
  assert.equal(resolved, fileURLToPath(new URL("../../dist/index.js", import.meta.url)));
});

test('"kubeiam" exports the NCP core, ExecCredential and errors', () => {
  for (const fn of [mintNcpToken, signNcpRequest, ncpStage, decodeNcpToken, verifyNcpToken, formatExecCredential]) {
    assert.equal(typeof fn, "function", fn.name);
  }
  assert.equal(typeof KubeiamError, "function");
  assert.ok(new KubeiamError(ErrorCode.USAGE, "x") instanceof Error);
  assert.equal(ErrorCode.TOKEN_MALFORMED, "ERR_TOKEN_MALFORMED");
  assert.equal(ErrorCode.INVALID_INPUT, "ERR_INVALID_INPUT");
  for (const name of ["mintNcpToken", "signNcpRequest", "ncpStage", "decodeNcpToken", "verifyNcpToken", "formatExecCredential", "KubeiamError", "ErrorCode"]) {
    assert.ok(name in kubeiam, `${name} is exported`);
  }
  // Named re-exports only: nothing internal leaks through (STYLE: never `export *`).
  assert.equal("toEpochMs" in kubeiam, false);
});

test('mintNcpToken from "kubeiam" gives the SGN golden vector (docs/formats.md §1 format)', () => {
  const { token, expiresAt, refreshAt } = mintNcpToken({
    signer: createNcpSigner({ accessKey: "NCPTESTACCESSKEY0001", secretKey: "NCPTESTSECRETKEY0001NCPTESTSECRETKEY0001" }),
    cluster: parseNcpTokenTarget({ clusterUuid: "3f1d2c4b-5a69-4e7f-8a1b-2c3d4e5f6a7b", region: "SGN" }),
    now: 1767225600000,
  });
  assert.equal(
    token,
    "k8s-ncp-v1.eyJ0aW1lc3RhbXAiOiIxNzY3MjI1NjAwMDAwIiwiYWNjZXNzS2V5IjoiTkNQVEVTVEFDQ0VTU0tFWTAwMDEiLCJzaWduYXR1cmUiOiJpT3k1L0liZFhSWERoanpXSm1uWFduVDZyTEhqV25hZWdHeUx2MzBaSVN3PSIsInBhdGgiOiIvaWFtL3Nnbi12MS91c2VyP2NsdXN0ZXJVdWlkPTNmMWQyYzRiLTVhNjktNGU3Zi04YTFiLTJjM2Q0ZTVmNmE3YiJ9",
  );
  assert.equal(expiresAt.toISOString(), "2026-01-01T00:05:00.000Z");
  assert.equal(refreshAt.toISOString(), "2026-01-01T00:04:00.000Z");
  assert.equal(ncpStage("SGN"), "sgn-v1");
});

test('"kubeiam" is curated: every error class, the factories and token functions, no deprecated or internal helper; each area\'s further functions on its subpath, as the same objects', async () => {
  for (const name of ["KubeiamError", "UsageError", "InvalidInputError", "CredentialsError", "ConfigFileError", "TokenError", "ApiError", "CloudPermissionError", "NetworkError", "KubeconfigError", "ClusterStateError", "FileError", "StoreError", "BrokerRefusal"]) {
    const value = (kubeiam as Record<string, unknown>)[name];
    assert.equal(typeof value, "function", `${name} is exported`);
    assert.ok((value as { prototype: unknown }).prototype instanceof kubeiam.KubeiamError || value === kubeiam.KubeiamError, `${name} is a KubeiamError`);
  }
  // Deprecated before 1.0 (the adapters build the same entries), and helpers that no user calls.
  for (const name of ["ncpKubeconfigEntries", "eksKubeconfigEntries", "gkeKubeconfigEntries", "normalizeNcpRegion", "checkClusterUuid", "ncpTokenPath", "loggableUrl", "parseNcpClusterList", "DEFAULT_REFRESH_MARGIN_MS", "EKS_TOKEN_REFRESH_MS"]) {
    assert.equal(name in kubeiam, false, `${name} is not exported`);
  }
  // The factories and the pure token functions are.
  for (const name of ["createNcpProvider", "createEksProvider", "createGkeProvider", "createBrokerProvider", "createNcpSigner", "parseNcpTokenTarget", "mintNcpToken", "mintEksToken", "mintGkeToken", "refreshAtFor"]) {
    assert.equal(typeof (kubeiam as Record<string, unknown>)[name], "function", `${name} is exported`);
  }
  // Cluster look-ups, API clients, credential resolution, adapters, the kubeconfig model and files, the
  // broker's REST client and the sandbox are their subpath's (the root keeps their types only).
  const onSubpath: Record<string, string[]> = {
    "kubeiam/ncp": ["getNcpCluster", "listNcpClusters", "createNcpApiClient", "buildNcpRequest", "checkNcpResponse", "resolveNcpCredentials", "DEFAULT_NCP_API_URL", "ncpKubeConfig", "ncpAdapter"],
    "kubeiam/aws": ["describeEksCluster", "listEksClusters", "getEksCluster", "resolveAwsCredentials", "resolveAwsProfile", "resolveAwsRegion", "readAwsSharedFiles", "eksAdapter"],
    "kubeiam/gcp": ["getGkeCluster", "listGkeClusters", "readGcpCredentialsFile", "resolveGkeCredentials", "readGkeCachedToken", "writeGkeCachedToken", "gkeAdapter"],
    "kubeiam/kube": ["parseKubeconfig", "serializeKubeconfig", "mergeKubeconfigEntries", "kubeconfigOf", "readKubeconfigFile", "writeKubeconfigFile", "loadKubeconfigDocument", "resolveKubeconfigPath"],
    "kubeiam/broker": ["fetchBrokerToken", "listBrokerClusters", "fetchBrokerKubeconfig", "resolveBrokerToken"],
    "kubeiam/sandbox": ["startSandbox"],
  };
  const root = kubeiam as Record<string, unknown>;
  const everySubpath = new Map<string, unknown>();
  for (const [entry, names] of Object.entries(onSubpath)) {
    const sub = (await import(entry)) as Record<string, unknown>;
    for (const name of names) {
      assert.equal(typeof sub[name] === "function" || typeof sub[name] === "string" || typeof sub[name] === "object", true, `${entry} exports ${name}`);
      assert.equal(name in root, false, `${name} is ${entry}'s, not the root's`);
    }
    for (const [name, value] of Object.entries(sub)) everySubpath.set(name, value);
  }
  // Every value of the root is on a subpath too, as the very same object (one class, one function).
  for (const [name, value] of Object.entries(root)) {
    if (name === "sendHttpRequest") continue; // the cloud-neutral HTTP edge: the root's alone
    assert.ok(everySubpath.has(name), `${name} is on a subpath too`);
    assert.equal(everySubpath.get(name), value, `${name} is the same object on its subpath`);
  }
});
