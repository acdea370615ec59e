/**
 * `serve rekey` (src/broker/rekey.ts) re-seals what sign-ins keep, not only credentials: a session's
 * IdP refresh token and a sign-in in progress's PKCE verifier and IdP refresh token. After the rekey a
 * broker holding only the new key still finishes the sign-in and opens the session, on both stores.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { startBroker } from "../../src/broker/serve.js";
import { LoginRequests } from "../../src/broker/login-requests.js";
import { rekeyStore } from "../../src/broker/rekey.js";
import { masterKeyId, sealedKeyId } from "../../src/broker/sealing.js";
import { openStore, parseStoreLocation } from "../../src/broker/store/open.js";
import { NEEDS_POSTGRES } from "../helpers/postgres.js";
import { captureLines, testStores, type StoreKind, type TestStores } from "./helpers.js";

for (const kind of ["sqlite", "postgres"] as const satisfies readonly StoreKind[]) {
  describe(`rekey re-seals sign-ins (${kind})`, { skip: kind === "postgres" && NEEDS_POSTGRES }, () => {
    let stores: TestStores;
    before(async () => {
      stores = await testStores(kind);
    });
    after(async () => {
      await stores?.close();
    });

    test("sessions and sign-ins in progress open under the new key alone after a rekey", async () => {
      const db = await stores.newDb("rekey_sign_ins");
      const oldKey = randomBytes(32);
      const newKey = randomBytes(32);
      const now = Date.now();
      const common = { db, listen: "127.0.0.1:0", home: stores.dir, cwd: stores.dir, logStream: captureLines().stream, now: () => now };

      // Under the old key: a session with an IdP refresh token, one sign-in at the IdP, one approved.
      const before = await startBroker({ ...common, masterKey: oldKey.toString("base64") });
      let sessionToken: string;
      let started: string;
      let approved: string;
      try {
        const user = await before.ctx.store.signedInUser("ann", new Date(now));
        const session = await before.ctx.sessions.create({ userId: user.id, source: "oidc", role: "user", groups: [], idpRefreshToken: "idp-refresh-session" });
        sessionToken = session.refreshToken;
        const requests = new LoginRequests(before.ctx.store.db, oldKey, () => now);
        const one = await requests.create();
        const oneRow = await requests.byDeviceCode(one.deviceCode);
        assert.ok(oneRow !== undefined);
        started = `state-${randomBytes(6).toString("hex")}`;
        assert.equal(await requests.start(oneRow.id, { state: started, nonce: "n1", verifier: "pkce-verifier-one", binding: "b1" }), true);
        const two = await requests.create();
        const twoRow = await requests.byDeviceCode(two.deviceCode);
        assert.ok(twoRow !== undefined);
        assert.equal(await requests.start(twoRow.id, { state: "s2", nonce: "n2", verifier: "pkce-verifier-two", binding: "b2" }), true);
        assert.equal(await requests.approve(twoRow.id, { userId: user.id, role: "user", groups: ["dev"], idpRefreshToken: "idp-refresh-login" }), true);
        approved = twoRow.id;
      } finally {
        await before.close();
      }

      const store = await openStore(parseStoreLocation(db, { home: stores.dir, cwd: stores.dir }), { poolSize: 1 });
      try {
        await rekeyStore(store.db, store.dialect, [newKey, oldKey]);
        const sealed = await store.db.selectFrom("login_requests").select(["pkce_verifier", "idp_refresh"]).execute();
        const values = sealed.flatMap((r) => [r.pkce_verifier, r.idp_refresh]).filter((v): v is string => v !== null);
        assert.ok(values.length >= 2, "the sign-ins keep sealed values");
        for (const v of values) assert.equal(sealedKeyId(v), masterKeyId(newKey));

        // The new key alone finishes both sign-ins.
        const requests = new LoginRequests(store.db, newKey, () => now);
        const attempt = await requests.takeAttempt(started);
        assert.equal(attempt?.verifier, "pkce-verifier-one");
        const claimed = await requests.claim(approved);
        assert.equal(claimed?.idpRefreshToken, "idp-refresh-login");
      } finally {
        await store.close();
      }

      const afterRekey = await startBroker({ ...common, masterKey: newKey.toString("base64") });
      try {
        const live = await afterRekey.ctx.sessions.byRefreshToken(sessionToken);
        assert.equal(live?.idpRefreshToken, "idp-refresh-session");
      } finally {
        await afterRekey.close();
      }
    });
  });
}
