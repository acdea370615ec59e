/**
 * Service-account impersonation against the IAM Credentials stand-in: the caller's token goes as the
 * bearer, the account in the path, cloud-platform in the scopes, at most an hour asked; the answer's
 * expireTime is the token's real end; refusals name both accounts and the role, and hold no token.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { generateServiceAccountToken, TOKEN_CREATOR_ROLE } from "../../src/gcp/impersonate.js";
import { GKE_DEFAULT_SCOPES } from "../../src/gcp/token.js";
import { CloudPermissionError, InvalidInputError } from "../../src/lib/errors.js";
import { startIamCredentials, type IamCredentialsStandIn } from "./stand-ins.js";

const CALLER = "broker@kubeiam-test.iam.gserviceaccount.com";
const VIEWER = "viewer@kubeiam-test.iam.gserviceaccount.com";
const ADMIN = "admin@kubeiam-test.iam.gserviceaccount.com";
const OWN = "ya29.own-token-of-the-broker";
let iam: IamCredentialsStandIn;

before(async () => {
  iam = await startIamCredentials({ callerOf: (t) => (t === OWN ? CALLER : undefined), accounts: [VIEWER, ADMIN], tokenCreators: { [VIEWER]: [CALLER] }, expiresIn: 1200 });
});
after(() => iam?.close());

const ask = (serviceAccount: string, accessToken = OWN) => generateServiceAccountToken({ accessToken, caller: CALLER, serviceAccount, scopes: GKE_DEFAULT_SCOPES, apiUrl: iam.url, http: { attempts: 1 } });

test("the impersonated account reaches the call, with the caller's token, cloud-platform and an hour; the token is the account's and ends at expireTime", async () => {
  const sent = Date.now();
  const minted = await ask(VIEWER);
  const call = iam.calls.at(-1);
  assert.deepEqual(call, { caller: CALLER, account: VIEWER, scope: [...GKE_DEFAULT_SCOPES], lifetime: "3600s", status: 200 });
  assert.equal(iam.issuedTo.get(minted.token), VIEWER);
  // The stand-in gives 20 minutes (whole seconds): the real end, not an hour assumed.
  const ends = minted.expiresAt.getTime();
  assert.ok(ends > sent + 1190_000 && ends <= Date.now() + 1200_000, minted.expiresAt.toISOString());
  assert.equal(ends % 1000, 0);
  assert.equal(minted.refreshAt.getTime(), ends - 60_000);
});

test("403 (no getAccessToken on the account) and 404 (no such account) are one line naming both accounts and the role, with no token in it", async () => {
  for (const [account, status] of [
    [ADMIN, 403],
    ["ghost@kubeiam-test.iam.gserviceaccount.com", 404],
  ] as const) {
    await assert.rejects(ask(account), (e: unknown) => {
      assert.ok(e instanceof CloudPermissionError, String(e));
      assert.equal(e.status, status);
      assert.equal(e.message, `${CALLER} cannot act as service account ${account} (IAM Credentials answered ${status} ${status === 403 ? "PERMISSION_DENIED" : "NOT_FOUND"}): check that ${account} exists, and grant ${CALLER} the role ${TOKEN_CREATOR_ROLE} on it`);
      assert.ok(!e.message.includes(OWN) && !e.message.includes("\n"));
      return true;
    });
    assert.equal(iam.calls.at(-1)?.account, account);
  }
  // A bearer token IAM Credentials does not know: 401, the same kind of refusal, naming the key's account.
  await assert.rejects(ask(VIEWER, "ya29.forged"), (e: unknown) => {
    assert.ok(e instanceof CloudPermissionError && e.status === 401, String(e));
    assert.equal(e.message, `IAM Credentials did not accept the access token of ${CALLER} (IAM Credentials answered 401 UNAUTHENTICATED): check that its key is still valid`);
    return true;
  });
});

test("403 because the API is off in the key's project (ErrorInfo SERVICE_DISABLED) says to enable it, not to grant a role", async () => {
  // Google's answer, as its API reference shows it for a disabled service.
  const body = JSON.stringify({
    error: {
      code: 403,
      message: "IAM Service Account Credentials API has not been used in project 123 before or it is disabled.",
      status: "PERMISSION_DENIED",
      details: [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "SERVICE_DISABLED", domain: "googleapis.com", metadata: { service: "iamcredentials.googleapis.com", consumer: "projects/123" } }],
    },
  });
  const fetch = async () => ({ status: 403, headers: { get: () => "application/json" }, text: async () => body });
  await assert.rejects(
    generateServiceAccountToken({ accessToken: OWN, caller: CALLER, serviceAccount: VIEWER, scopes: GKE_DEFAULT_SCOPES, apiUrl: iam.url, http: { fetch, attempts: 1 } }),
    (e: unknown) => {
      assert.ok(e instanceof CloudPermissionError, String(e));
      assert.equal(e.message, `the IAM Service Account Credentials API is not enabled in the project of ${CALLER} (IAM Credentials answered 403 PERMISSION_DENIED SERVICE_DISABLED): enable iamcredentials.googleapis.com there`);
      return true;
    },
  );
});

test("an account that is not a service account's e-mail, a lifetime over an hour and plain http off loopback are refused before any request", async () => {
  const before = iam.calls.length;
  for (const bad of ["viewer", "a/b@x.iam.gserviceaccount.com", "x@y.com/../z", "v@x.iam.gserviceaccount.com?q"]) {
    await assert.rejects(ask(bad), (e: unknown) => e instanceof InvalidInputError && e.field === "impersonateServiceAccount");
  }
  await assert.rejects(generateServiceAccountToken({ accessToken: OWN, caller: CALLER, serviceAccount: VIEWER, scopes: GKE_DEFAULT_SCOPES, apiUrl: iam.url, lifetimeS: 3601 }), InvalidInputError);
  await assert.rejects(generateServiceAccountToken({ accessToken: OWN, caller: CALLER, serviceAccount: VIEWER, scopes: GKE_DEFAULT_SCOPES, apiUrl: "http://iamcredentials.example.com" }), (e: unknown) => e instanceof InvalidInputError && /must be https/.test(e.message));
  assert.equal(iam.calls.length, before);
});
