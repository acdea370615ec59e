/**
 * `kubeiam cache list|clear`: what the credential caches hold (cloud, identity, until when), and
 * emptying them. Never shows a key, a session token or an access token.
 */
import { readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { defaultAwsCacheDir } from "../aws/cache.js";
import { UsageError } from "../lib/errors.js";
import { defaultGkeCacheDir, legacyGkeCacheDir } from "../gcp/cache.js";
import { readPrivateJson } from "../lib/cache-file.js";
import { parseFlags, type CliContext, type Command } from "./context.js";

/** The clouds whose caches the command knows, and the flag values that name them. */
export const CACHE_CLOUDS = ["aws", "gcp"] as const;
type Cloud = (typeof CACHE_CLOUDS)[number];

/** Flags of `cache list` and `cache clear`. */
export const CACHE_FLAGS = {
  cloud: { type: "string" },
  output: { type: "string", short: "o" },
} as const;

const HELP = `Cache: what kubeiam keeps between kubectl calls, and emptying it.

Usage:
  kubeiam cache list [--cloud aws|gcp] [-o json]
  kubeiam cache clear [--cloud aws|gcp]

  --cloud aws|gcp   only this cloud's cache (default: both)
  -o, --output json list as JSON

aws: temporary credentials of 'eks token' (roles, SSO, credential_process), ~/.kube/cache/kubeiam/aws
gcp: access tokens of 'gke token', ~/.kube/cache/kubeiam/gcp
The list shows the identity and the expiry of each entry, never a secret or a token.
kubeiam 0.1 kept GKE tokens in $XDG_CACHE_HOME/kubeiam/gke (else ~/.cache/kubeiam/gke); that folder is
no longer read, and 'cache clear' deletes the token files left there too.
`;

/** One cache entry as listed. */
export interface CacheEntry {
  cloud: Cloud;
  /** The identity, described without secrets. */
  identity: string;
  /** When the cached credential expires (RFC 3339), when known. */
  expiresAt?: string;
  /** `valid`, `refresh due` (within the 5-minute margin) or `expired`; `unreadable` for a foreign or broken file. */
  state: "valid" | "refresh due" | "expired" | "unreadable";
  file: string;
}

function dirsFor(cloud: Cloud | undefined, env: Record<string, string | undefined>): [Cloud, string][] {
  const all: [Cloud, string][] = [
    ["aws", defaultAwsCacheDir(env)],
    ["gcp", defaultGkeCacheDir(env)],
  ];
  return cloud === undefined ? all : all.filter(([c]) => c === cloud);
}

function parseCloud(cmd: string, value: string | undefined): Cloud | undefined {
  if (value === undefined) return undefined;
  if ((CACHE_CLOUDS as readonly string[]).includes(value)) return value as Cloud;
  throw new UsageError(`${cmd}: --cloud takes aws or gcp, not ${JSON.stringify(value.slice(0, 20))}`);
}

async function entryFiles(dir: string, cloud: Cloud): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const re = cloud === "aws" ? /^aws-[0-9a-f]{64}\.json$/ : /^token-[0-9a-f]{64}\.json$/;
  return names.filter((n) => re.test(n)).sort();
}

function describe(cloud: Cloud, rec: Record<string, unknown>): string {
  // The GKE cache names its identity only by a fingerprint (the account is not written in clear).
  if (cloud === "gcp") return `access token, identity fingerprint ${String(rec.fingerprint ?? "").slice(0, 12)}`;
  const id = (typeof rec.identity === "object" && rec.identity !== null ? rec.identity : {}) as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of ["profile", "roleArn", "externalId", "sessionName"]) if (typeof id[k] === "string") parts.push(`${k}=${id[k] as string}`);
  return parts.length > 0 ? parts.join(" ") : "default chain";
}

/**
 * The entries of the caches, oldest name first, described without secrets.
 *
 * @example
 * ```ts
 * for (const e of await listCacheEntries(process.env, Date.now())) console.log(e.cloud, e.identity, e.expiresAt);
 * ```
 */
export async function listCacheEntries(env: Record<string, string | undefined>, now: number, cloud?: Cloud): Promise<CacheEntry[]> {
  const out: CacheEntry[] = [];
  for (const [c, dir] of dirsFor(cloud, env)) {
    for (const name of await entryFiles(dir, c)) {
      const file = join(dir, name);
      const rec = await readPrivateJson(file);
      const raw = rec === undefined ? undefined : c === "aws" ? rec.expiration : rec.expiresAt;
      const expires = typeof raw === "string" ? new Date(raw) : undefined;
      if (rec === undefined || expires === undefined || Number.isNaN(expires.getTime())) {
        out.push({ cloud: c, identity: "(unreadable, or readable by others: ignored)", state: "unreadable", file });
        continue;
      }
      const left = expires.getTime() - now;
      out.push({
        cloud: c,
        identity: describe(c, rec),
        expiresAt: expires.toISOString().replace(/\.\d{3}Z$/, "Z"),
        state: left <= 0 ? "expired" : left <= 5 * 60 * 1000 ? "refresh due" : "valid",
        file,
      });
    }
  }
  return out;
}

function table(entries: CacheEntry[], now: number): string {
  if (entries.length === 0) return "No cached credentials.\n";
  const rows = entries.map((e) => {
    const left = e.expiresAt === undefined ? "" : ` (${Math.max(0, Math.round((Date.parse(e.expiresAt) - now) / 60000))} min left)`;
    return [e.cloud, e.identity, e.expiresAt ?? "-", e.state + (e.state === "valid" ? left : "")];
  });
  const head = ["CLOUD", "IDENTITY", "EXPIRES", "STATE"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]): string => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join("  ");
  return [line(head), ...rows.map(line)].join("\n") + "\n";
}

/**
 * The `cache` command group: `cache list` and `cache clear`.
 *
 * @example
 * ```ts
 * await cacheCommand.run(["clear", "--cloud", "aws"], ctx);
 * ```
 */
export const cacheCommand: Command = {
  options: { list: CACHE_FLAGS, clear: CACHE_FLAGS },
  summary: "List or clear cached credentials (EKS temporary credentials, GKE access tokens); never shows a secret",
  help: HELP,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const [sub, ...rest] = args;
    if (sub !== "list" && sub !== "clear") {
      throw new UsageError(
        sub === undefined ? "cache: name a subcommand: 'kubeiam cache list' or 'kubeiam cache clear'" : `cache: unknown subcommand ${JSON.stringify(sub)}: use list or clear`,
      );
    }
    const cmd = `cache ${sub}`;
    const { values } = parseFlags(cmd, rest, CACHE_FLAGS);
    const cloud = parseCloud(cmd, values.cloud);
    const now = ctx.now();
    if (sub === "list") {
      if (values.output !== undefined && values.output !== "json") throw new UsageError(`${cmd}: -o takes json only`);
      const entries = await listCacheEntries(ctx.env, now, cloud);
      ctx.out(values.output === "json" ? `${JSON.stringify(entries, null, 2)}\n` : table(entries, now));
      return 0;
    }
    if (values.output !== undefined) throw new UsageError(`${cmd}: -o applies to 'cache list' only`);
    const removed: Record<string, number> = {};
    // The old GKE folder too: it is no longer read, and its tokens should not outlive a clear.
    const targets: [Cloud, string][] = [...dirsFor(cloud, ctx.env), ...(cloud === "aws" ? [] : [["gcp", legacyGkeCacheDir(ctx.env)] as [Cloud, string]])];
    for (const [c, dir] of targets) {
      removed[c] ??= 0;
      for (const name of await entryFiles(dir, c)) {
        await unlink(join(dir, name)).catch(() => undefined);
        removed[c] = (removed[c] ?? 0) + 1;
      }
    }
    const parts = Object.entries(removed).map(([c, n]) => `${c}: ${n}`);
    ctx.out(`Removed ${Object.values(removed).reduce((a, b) => a + b, 0)} cached credential(s) (${parts.join(", ")})\n`);
    return 0;
  },
};
