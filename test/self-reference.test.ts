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
  resolveNcpCredentials,
  signNcpRequest,
  verifyNcpToken,
} from "kubeiam";

test('"kubeiam" resolves to the built dist/index.js through the exports map', () => {
  const resolved = fileURLToPath(import.meta.resolve("kubeiam"));
  assert.ok(resolved.endsWith("/dist/index.js"), resolved);
  assert.equal(resolved, fileURLToPath(new URL("../../dist/index.js", import.meta.url)));
});

test('"kubeiam" exports the NCP core, ExecCredential, credentials and errors', () => {
  for (const fn of [mintNcpToken, signNcpRequest, ncpStage, decodeNcpToken, verifyNcpToken, formatExecCredential, resolveNcpCredentials]) {
    assert.equal(typeof fn, "function", fn.name);
  }
  assert.equal(typeof KubeiamError, "function");
  assert.ok(new KubeiamError(ErrorCode.USAGE, "x") instanceof Error);
  assert.equal(ErrorCode.TOKEN_MALFORMED, "ERR_TOKEN_MALFORMED");
  assert.equal(ErrorCode.INVALID_INPUT, "ERR_INVALID_INPUT");
  for (const name of ["mintNcpToken", "signNcpRequest", "ncpStage", "decodeNcpToken", "verifyNcpToken", "formatExecCredential", "resolveNcpCredentials", "KubeiamError", "ErrorCode"]) {
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

test('"kubeiam" is curated: every error class, no deprecated or internal helper, and every subpath a subset of the root', async () => {
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
  const root = new Set(Object.keys(kubeiam));
  for (const entry of ["kubeiam/ncp", "kubeiam/aws", "kubeiam/gcp", "kubeiam/kube", "kubeiam/broker"]) {
    const names = Object.keys((await import(entry)) as object);
    assert.deepEqual(names.filter((n) => !root.has(n)), [], `${entry} exports only names the root exports`);
  }
});
