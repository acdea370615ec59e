/**
 * A consumer's TypeScript program (test/fixtures/consumer/consumer.ts) that names kubeiam's shared
 * types from "kubeiam" and from the subpaths compiles with
 * `tsc --strict --module nodenext --moduleResolution nodenext --noEmit` against the built package:
 * a temp project whose node_modules/kubeiam is a link to this package, so that "kubeiam/…" resolves
 * through package.json "exports" to dist/**.d.ts, as it does for users. The fixture holds a
 * `@ts-expect-error` line, so types that came through as `any` would fail the compile too; and a
 * program naming a type that is not exported must fail. (`--skipLibCheck`, as most projects and this
 * repo's own tsconfig set it: client-node's declarations need `@types/ws`, which it does not ship.)
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const exec = promisify(execFile);
const REPO = fileURLToPath(new URL("../../", import.meta.url));
const TSC = join(REPO, "node_modules", "typescript", "bin", "tsc");
const FIXTURE = join(REPO, "test", "fixtures", "consumer", "consumer.ts");

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubeiam-consumer-"));
  await mkdir(join(dir, "node_modules"));
  await symlink(REPO, join(dir, "node_modules", "kubeiam"), "dir");
  await writeFile(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  await copyFile(FIXTURE, join(dir, "consumer.ts"));
});
after(() => rm(dir, { recursive: true, force: true }));

async function tsc(file: string): Promise<{ code: number; output: string }> {
  const args = [
    TSC,
    "--strict",
    // As the repo's own tsconfig: client-node's declarations name `ws` without shipping its types.
    "--skipLibCheck",
    "--module", "nodenext",
    "--moduleResolution", "nodenext",
    "--target", "es2022",
    "--noEmit",
    "--types", "node",
    "--typeRoots", join(REPO, "node_modules", "@types"),
    file,
  ];
  try {
    const r = await exec(process.execPath, args, { cwd: dir, env: { PATH: process.env.PATH ?? "", HOME: dir }, timeout: 120_000 });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

test("a consumer naming the shared types from kubeiam and its subpaths compiles under tsc --strict --module nodenext", async () => {
  const r = await tsc("consumer.ts");
  assert.equal(r.code, 0, r.output);
});

test("the same compile fails on a type kubeiam does not export (the check can fail)", async () => {
  await writeFile(join(dir, "wrong.ts"), 'import type { ClusterInfo, NoSuchType } from "kubeiam/ncp";\nexport type T = [ClusterInfo, NoSuchType];\n');
  const r = await tsc("wrong.ts");
  assert.notEqual(r.code, 0);
  assert.match(r.output, /wrong\.ts\(1,\d+\): error TS2305: Module '"kubeiam\/ncp"' has no exported member 'NoSuchType'/);
});
