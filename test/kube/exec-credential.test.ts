/**
 * Tests for the ExecCredential that the exec plugin prints and the KUBERNETES_EXEC_INFO it reads
 * (docs/formats.md §5). Expected strings are written out by hand from the official tool's output
 * and client-go's field order (ExecCredentialStatus: expirationTimestamp, then token).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_EXEC_API_VERSION,
  EXEC_API_VERSIONS,
  chooseExecApiVersion,
  execCredentialText,
  formatExecCredential,
  parseExecApiVersion,
  parseExecInfo,
  rfc3339Seconds,
} from "../../src/kube/exec-credential.js";
import { ErrorCode, UsageError } from "../../src/lib/errors.js";

test("formatExecCredential: byte for byte the official tool's output (default apiVersion v1beta1)", () => {
  const cred = formatExecCredential({ token: "test", expirationTimestamp: new Date("2026-09-01T13:04:00Z") });
  assert.equal(
    JSON.stringify(cred),
    '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false},"status":{"expirationTimestamp":"2026-09-01T13:04:00Z","token":"test"}}',
  );
  assert.equal(DEFAULT_EXEC_API_VERSION, "client.authentication.k8s.io/v1beta1");
});

test("formatExecCredential: v1 when asked for, milliseconds dropped", () => {
  const cred = formatExecCredential({
    token: "k8s-ncp-v1.abc=",
    expirationTimestamp: new Date("2026-09-01T13:04:00.999Z"),
    apiVersion: "client.authentication.k8s.io/v1",
  });
  assert.equal(
    JSON.stringify(cred),
    '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false},"status":{"expirationTimestamp":"2026-09-01T13:04:00Z","token":"k8s-ncp-v1.abc="}}',
  );
});

test("formatExecCredential: no expiration leaves the field out (Go's omitempty); interactive is passed through", () => {
  assert.equal(
    JSON.stringify(formatExecCredential({ token: "test" })),
    '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false},"status":{"token":"test"}}',
  );
  assert.equal(
    JSON.stringify(formatExecCredential({ token: "t", interactive: true, apiVersion: "client.authentication.k8s.io/v1" })),
    '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true},"status":{"token":"t"}}',
  );
});

test("rfc3339Seconds: UTC, whole seconds, fractions dropped and never rounded up", () => {
  assert.equal(rfc3339Seconds(new Date("2026-09-01T13:04:00Z")), "2026-09-01T13:04:00Z");
  assert.equal(rfc3339Seconds(new Date("2026-09-01T13:04:00.001Z")), "2026-09-01T13:04:00Z");
  assert.equal(rfc3339Seconds(new Date("2026-09-01T13:04:59.999Z")), "2026-09-01T13:04:59Z");
  assert.equal(rfc3339Seconds(new Date("2026-12-31T23:59:59.999Z")), "2026-12-31T23:59:59Z");
  assert.equal(rfc3339Seconds(new Date("2026-09-01T22:04:00.500+09:00")), "2026-09-01T13:04:00Z");
  assert.equal(rfc3339Seconds(new Date(0)), "1970-01-01T00:00:00Z");
  assert.equal(rfc3339Seconds(new Date(-1)), "1969-12-31T23:59:59Z");
});

test("parseExecInfo: what client-go passes for v1 and v1beta1", () => {
  assert.deepEqual(
    parseExecInfo('{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}'),
    { apiVersion: "client.authentication.k8s.io/v1", interactive: false },
  );
  assert.deepEqual(
    parseExecInfo('{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}'),
    { apiVersion: "client.authentication.k8s.io/v1beta1", interactive: true },
  );
  // provideClusterInfo adds spec.cluster; it is ignored.
  assert.deepEqual(
    parseExecInfo(
      '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://1.2.3.4","config":null},"interactive":false}}',
    ),
    { apiVersion: "client.authentication.k8s.io/v1", interactive: false },
  );
  // No spec, or a non-boolean interactive: not interactive.
  assert.deepEqual(parseExecInfo('{"apiVersion":"client.authentication.k8s.io/v1"}'), {
    apiVersion: "client.authentication.k8s.io/v1",
    interactive: false,
  });
  assert.deepEqual(parseExecInfo('{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":"true"}}'), {
    apiVersion: "client.authentication.k8s.io/v1",
    interactive: false,
  });
});

test("parseExecInfo: absent, empty, malformed or unknown gives undefined so the caller falls back", () => {
  const cases: (string | undefined)[] = [
    undefined,
    "",
    "  \n",
    "{",
    "not json",
    "null",
    "[]",
    '"client.authentication.k8s.io/v1"',
    "1",
    "{}",
    '{"apiVersion":"client.authentication.k8s.io/v1alpha1","spec":{"interactive":false}}',
    '{"apiVersion":"v1","spec":{"interactive":false}}',
    '{"apiVersion":1}',
  ];
  for (const raw of cases) assert.equal(parseExecInfo(raw), undefined, JSON.stringify(raw));
});

test("parseExecApiVersion: v1, v1beta1 and their full names", () => {
  assert.equal(parseExecApiVersion("v1"), "client.authentication.k8s.io/v1");
  assert.equal(parseExecApiVersion("v1beta1"), "client.authentication.k8s.io/v1beta1");
  assert.equal(parseExecApiVersion("client.authentication.k8s.io/v1"), "client.authentication.k8s.io/v1");
  assert.equal(parseExecApiVersion("client.authentication.k8s.io/v1beta1"), "client.authentication.k8s.io/v1beta1");
  assert.deepEqual([...EXEC_API_VERSIONS], ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]);
});

test("parseExecApiVersion: anything else is a usage error naming the value and the choices", () => {
  for (const value of ["v1alpha1", "client.authentication.k8s.io/v1alpha1", "", "V1", "v2", "authentication.k8s.io/v1", "/v1", "v1 "]) {
    assert.throws(
      () => parseExecApiVersion(value),
      (e: unknown) => {
        assert.ok(e instanceof UsageError, `${JSON.stringify(value)}: ${String(e)}`);
        assert.equal(e.code, ErrorCode.USAGE);
        assert.ok(e.message.includes(JSON.stringify(value)), e.message);
        assert.match(e.message, /use v1 or v1beta1/);
        return true;
      },
    );
  }
});

test("execCredentialText: each tool's bytes, written out by hand; chooseExecApiVersion checks the flag even when exec info decides", () => {
  const input = { token: "k8s-x.abc", expirationTimestamp: new Date("2026-01-01T00:14:00.900Z"), apiVersion: "client.authentication.k8s.io/v1" as const };
  assert.equal(
    execCredentialText(input, "ncp-iam-authenticator"),
    '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false},"status":{"expirationTimestamp":"2026-01-01T00:14:00Z","token":"k8s-x.abc"}}',
  );
  assert.equal(
    execCredentialText(input, "aws-cli"),
    '{\n    "kind": "ExecCredential",\n    "apiVersion": "client.authentication.k8s.io/v1",\n    "spec": {},\n    "status": {\n        "expirationTimestamp": "2026-01-01T00:14:00Z",\n        "token": "k8s-x.abc"\n    }\n}\n\n',
  );
  assert.equal(
    execCredentialText(input, "gke-gcloud-auth-plugin"),
    '{\n    "kind": "ExecCredential",\n    "apiVersion": "client.authentication.k8s.io/v1",\n    "spec": {\n        "interactive": false\n    },\n    "status": {\n        "expirationTimestamp": "2026-01-01T00:14:00Z",\n        "token": "k8s-x.abc"\n    }\n}',
  );
  const v1Info = '{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}';
  assert.equal(chooseExecApiVersion({}), "client.authentication.k8s.io/v1beta1");
  assert.equal(chooseExecApiVersion({ flag: "v1" }), "client.authentication.k8s.io/v1");
  assert.equal(chooseExecApiVersion({ execInfo: v1Info, flag: "v1beta1" }), "client.authentication.k8s.io/v1");
  assert.throws(() => chooseExecApiVersion({ execInfo: v1Info, flag: "v2" }), UsageError);
});
