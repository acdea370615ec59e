/**
 * docs/formats.md, checked: every worked example on that page is parsed out of the Markdown and
 * recomputed here, once with node:crypto alone (HMAC, SigV4 by the book, Base64url) and once with
 * kubeiam's own functions, so that the page, the independent computation and the code must agree.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createHmac, generateKeyPairSync, verify } from "node:crypto";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { mintNcpToken, parseNcpTokenTarget } from "../../src/ncp/token.js";
import { ncpApiPrefix, ncpStage } from "../../src/ncp/region.js";
import { createNcpSigner, signNcpRequest } from "../../src/ncp/sign.js";
import { ncpApiBaseUrl } from "../../src/ncp/api.js";
import { mintEksToken } from "../../src/aws/token.js";
import { signJwtAssertion, GKE_DEFAULT_SCOPES } from "../../src/gcp/token.js";
import { sigv4 } from "../aws/stand-ins.js";
import { runInProcess } from "../helpers/cli.js";

const DOC = readFileSync(fileURLToPath(new URL("../../../docs/formats.md", import.meta.url)), "utf8");

/** The Markdown that follows `<!-- example: name -->`, up to the next blank line after its block. */
function after(name: string): string {
  const marker = `<!-- example: ${name} -->\n`;
  const at = DOC.indexOf(marker);
  assert.ok(at >= 0, `docs/formats.md has the example ${name}`);
  return DOC.slice(at + marker.length);
}

/** A two-column example table as a map from the first column to the backticked second column. */
function table(name: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of after(name).split("\n")) {
    if (!line.startsWith("|")) break;
    const m = /^\| ([^|]+?) \| `([^`]*)` \|$/.exec(line);
    if (m !== null) rows.set(m[1] as string, m[2] as string);
  }
  assert.ok(rows.size > 0, `the example ${name} is a table`);
  return rows;
}

function field(rows: Map<string, string>, name: string): string {
  const v = rows.get(name);
  assert.ok(v !== undefined, `the table has a row "${name}"`);
  return v;
}

/** The first fenced code block after the marker. */
function codeBlock(name: string): string {
  const m = /^```[a-z]*\n([\s\S]*?)\n```/.exec(after(name));
  assert.ok(m !== null, `the example ${name} is a code block`);
  return m[1] as string;
}

const hmacB64 = (key: string, message: string): string => createHmac("sha256", key).update(message, "utf8").digest("base64");

test("section 1: the NKS token example, recomputed with node:crypto and minted by mintNcpToken", () => {
  const t = table("nks-token");
  const time = Date.parse(field(t, "time"));
  assert.equal(field(t, "timestamp"), String(time));
  const path = `/iam/${field(t, "region").toLowerCase()}-v1/user?clusterUuid=${field(t, "cluster UUID")}`;
  assert.equal(field(t, "path"), path);
  const signature = hmacB64(field(t, "secret key"), `GET ${path}\n${field(t, "timestamp")}\n${field(t, "access key")}`);
  assert.equal(field(t, "signature"), signature);
  const claim = `{"timestamp":"${field(t, "timestamp")}","accessKey":"${field(t, "access key")}","signature":"${signature}","path":"${path}"}`;
  assert.equal(field(t, "claim"), claim);
  assert.equal(field(t, "token"), `k8s-ncp-v1.${Buffer.from(claim, "utf8").toString("base64")}`);
  // NCP's gateway window is 5 minutes; kubectl is told to come back a minute before (240 s).
  assert.equal(field(t, "valid until"), new Date(time + 5 * 60_000).toISOString().replace(".000Z", "Z"));
  assert.equal(field(t, "expirationTimestamp"), new Date(time + 240_000).toISOString().replace(".000Z", "Z"));

  const minted = mintNcpToken({
    signer: createNcpSigner({ accessKey: field(t, "access key"), secretKey: field(t, "secret key") }),
    cluster: parseNcpTokenTarget({ clusterUuid: field(t, "cluster UUID"), region: field(t, "region") }),
    now: time,
  });
  assert.equal(minted.token, field(t, "token"));
  assert.equal(minted.expiresAt.toISOString().replace(".000Z", "Z"), field(t, "valid until"));
  assert.equal(minted.refreshAt.toISOString().replace(".000Z", "Z"), field(t, "expirationTimestamp"));
  // The string to sign as the page prints it.
  assert.equal(codeBlock("nks-string-to-sign"), `GET ${path}\n${field(t, "timestamp")}\n${field(t, "access key")}`);
});

test("section 2: every row of the region table is what ncpStage and ncpApiPrefix return", () => {
  const block = after("regions").split("\n");
  const lines = block.slice(0, block.findIndex((l) => !l.startsWith("|"))).slice(2);
  assert.ok(lines.length >= 8);
  for (const line of lines) {
    const cells = line.split("|").slice(1, -1).map((c) => c.trim().replace(/^`|`$/g, ""));
    const region = cells[0] === "(empty)" ? "" : (cells[0] as string);
    assert.equal(ncpStage(region), cells[1], `stage of ${region}`);
    assert.equal(ncpApiPrefix(region), cells[2], `prefix of ${region}`);
  }
});

test("section 3: the API gateway example, recomputed and signed by signNcpRequest", () => {
  const t = table("api-gateway");
  const uri = field(t, "request URI");
  assert.equal(uri, `${ncpApiPrefix(field(t, "region"))}/clusters`);
  assert.equal(field(t, "URL"), `${ncpApiBaseUrl(field(t, "base URL"), field(t, "region"))}/clusters`);
  const expected = hmacB64(field(t, "secret key"), `GET ${uri}\n${field(t, "timestamp")}\n${field(t, "access key")}`);
  assert.equal(field(t, "signature"), expected);
  assert.equal(
    signNcpRequest({ method: "GET", uri, timestamp: field(t, "timestamp"), accessKey: field(t, "access key"), secretKey: field(t, "secret key") }),
    expected,
  );
});

test("section 5: the ExecCredential is what 'kubeiam token' prints for section 1's token at that time", async () => {
  const t = table("nks-token");
  const { status, out } = await runInProcess(["token", "--clusterUuid", field(t, "cluster UUID"), "--region", field(t, "region")], {
    env: { HOME: "/nonexistent-kubeiam-docs-home", NCLOUD_ACCESS_KEY_ID: field(t, "access key"), NCLOUD_SECRET_ACCESS_KEY: field(t, "secret key") },
    now: () => Date.parse(field(t, "time")),
  });
  assert.equal(status, 0);
  assert.equal(out, codeBlock("exec-credential"));
});

test("section 6: the EKS example, by SigV4 written from AWS's documentation and by mintEksToken", async () => {
  const t = table("eks-token");
  const time = new Date(field(t, "time"));
  const amzDate = time.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const region = field(t, "region");
  const scope = `${day}/${region}/sts/aws4_request`;
  assert.equal(field(t, "credential scope"), scope);
  const enc = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [
    ["Action", "GetCallerIdentity"],
    ["Version", "2011-06-15"],
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
    ["X-Amz-Credential", `${field(t, "access key id")}/${scope}`],
    ["X-Amz-Date", amzDate],
    ["X-Amz-Expires", "60"],
    ["X-Amz-SignedHeaders", "host;x-k8s-aws-id"],
  ] as const;
  const host = `sts.${region}.amazonaws.com`;
  const canonical = [
    "GET",
    "/",
    query.map(([k, v]) => `${enc(k)}=${enc(v)}`).join("&"), // already in sorted order
    `host:${host}\nx-k8s-aws-id:${field(t, "cluster name")}\n`,
    "host;x-k8s-aws-id",
    createHash("sha256").update("").digest("hex"),
  ].join("\n");
  assert.equal(codeBlock("eks-canonical-request"), canonical);
  const signature = sigv4(field(t, "secret access key"), amzDate, scope, canonical);
  assert.equal(field(t, "signature"), signature);
  const url = `https://${host}/?${[...query, ["X-Amz-Signature", signature]].map(([k, v]) => `${k}=${enc(v)}`).join("&")}`;
  assert.equal(field(t, "URL"), url);
  assert.equal(field(t, "token"), `k8s-aws-v1.${Buffer.from(url, "utf8").toString("base64url")}`);

  const minted = await mintEksToken({
    credentials: { accessKeyId: field(t, "access key id"), secretAccessKey: field(t, "secret access key") },
    clusterName: field(t, "cluster name"),
    region,
    now: time,
  });
  assert.equal(minted.token, field(t, "token"));
  assert.equal(minted.refreshAt.toISOString().replace(".000Z", "Z"), field(t, "expirationTimestamp"));
});

test("section 7: the GKE assertion's signing input, recomputed and produced by signJwtAssertion", () => {
  const t = table("gke-assertion");
  const iat = Date.parse(field(t, "time")) / 1000;
  const header = { alg: "RS256", typ: "JWT", kid: field(t, "private_key_id") };
  const claims = { iss: field(t, "client_email"), scope: GKE_DEFAULT_SCOPES.join(" "), aud: field(t, "token_uri"), exp: iat + 3600, iat };
  assert.equal(field(t, "header"), JSON.stringify(header));
  assert.equal(field(t, "claims"), JSON.stringify(claims));
  const b64 = (s: string): string => Buffer.from(s, "utf8").toString("base64url");
  assert.equal(field(t, "signing input"), `${b64(field(t, "header"))}.${b64(field(t, "claims"))}`);

  // With a key of our own (the page holds none), kubeiam's assertion starts with the same two parts.
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwt = signJwtAssertion({
    key: {
      type: "service_account",
      clientEmail: field(t, "client_email"),
      privateKeyId: field(t, "private_key_id"),
      privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      tokenUri: field(t, "token_uri"),
    },
    scopes: GKE_DEFAULT_SCOPES,
    now: iat * 1000,
  });
  const [h, c, s] = jwt.split(".");
  assert.equal(`${h}.${c}`, field(t, "signing input"));
  assert.ok(verify("sha256", Buffer.from(`${h}.${c}`), publicKey, Buffer.from(s ?? "", "base64url")));
});

test("the package ships the reference: docs/formats.md is in what 'npm pack' would publish", () => {
  const root = fileURLToPath(new URL("../../../", import.meta.url));
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8", env: { ...process.env, npm_config_loglevel: "silent" } });
  const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path) ?? [];
  assert.ok(files.includes("docs/formats.md"), "docs/formats.md is published");
  assert.ok(files.includes("README.md"));
});
