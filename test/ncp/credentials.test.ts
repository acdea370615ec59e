/**
 * Tests for NCP credential lookup (docs/formats.md §4), with temporary homes and explicit environments:
 * process.env and the real ~/.ncloud are never read. All keys are made up.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEFAULT_NCP_API_URL,
  defaultNcpConfigFile,
  resolveNcpCredentials,
  type ResolveNcpCredentialsOptions,
} from "../../src/ncp/credentials.js";
import { ConfigFileError, CredentialsError, ErrorCode, KubeiamError, type ErrorCodeValue } from "../../src/lib/errors.js";

const FILE_AK = "FILEAKtest0000000001";
const FILE_SK = "FILESKtest0000000001FILESKtest0000000001";
const PROD_AK = "PRODAKtest0000000002";
const PROD_SK = "PRODSKtest0000000002PRODSKtest0000000002";
const ENV_AK = "ENVAKtest00000000003";
const ENV_SK = "ENVSKtest00000000003ENVSKtest00000000003";
const SECRETS = [FILE_SK, PROD_SK, ENV_SK];

const CONFIGURE = `[DEFAULT]
ncloud_access_key_id = ${FILE_AK}
ncloud_secret_access_key = ${FILE_SK}
ncloud_api_url = https://ncloud.apigw.ntruss.com

[prod]
ncloud_access_key_id = ${PROD_AK}
ncloud_secret_access_key = ${PROD_SK}
ncloud_api_url = https://fin-ncloud.apigw.fin-ntruss.com
`;

/** Runs `fn` with a fresh temporary HOME, removed afterwards. */
async function withHome(fn: (home: string) => void | Promise<void>): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "kubeiam-creds-"));
  try {
    await fn(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** Writes `$home/.ncloud/configure` with `text` and `mode`, and returns its path. */
function writeConfigure(home: string, text: string | Buffer, mode = 0o600): string {
  mkdirSync(join(home, ".ncloud"), { mode: 0o700 });
  const path = join(home, ".ncloud", "configure");
  writeFileSync(path, text, { mode });
  chmodSync(path, mode); // whatever the umask
  return path;
}

/** Asserts that resolving throws `cls` with `code`, a message matching each of `patterns`, and no secret. */
async function refuses(
  options: ResolveNcpCredentialsOptions,
  cls: typeof CredentialsError | typeof ConfigFileError,
  code: ErrorCodeValue,
  patterns: RegExp[],
): Promise<KubeiamError> {
  let caught: unknown;
  await assert.rejects(
    () => resolveNcpCredentials(options),
    (e: unknown) => {
      caught = e;
      return true;
    },
  );
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${String(caught)}`);
  assert.equal(caught.code, code);
  for (const p of patterns) assert.match(caught.message, p);
  for (const s of SECRETS) assert.ok(!caught.message.includes(s), "the message must not hold a secret key");
  return caught;
}

const noSecretsIn = (warnings: string[]): void => {
  for (const w of warnings) for (const s of SECRETS) assert.ok(!w.includes(s), "a warning must not hold a secret key");
};

test("defaultNcpConfigFile: $HOME/.ncloud/configure from the given environment", async () => {
  assert.equal(defaultNcpConfigFile({ HOME: "/home/someone" }), "/home/someone/.ncloud/configure");
});

test("environment keys win over the configure file; API URL defaults to the public gateway", async () => {
  await withHome(async (home) => {
    writeConfigure(home, CONFIGURE);
    const creds = await resolveNcpCredentials({ env: { HOME: home, NCLOUD_ACCESS_KEY_ID: ENV_AK, NCLOUD_SECRET_ACCESS_KEY: ENV_SK } });
    assert.deepEqual(creds, { accessKey: ENV_AK, secretKey: ENV_SK, apiUrl: DEFAULT_NCP_API_URL, source: "env", warnings: [] });
    assert.equal(DEFAULT_NCP_API_URL, "https://ncloud.apigw.ntruss.com");
  });
});

test("environment: NCLOUD_API_GW sets the API URL", async () => {
  await withHome(async (home) => {
    const creds = await resolveNcpCredentials({
      env: { HOME: home, NCLOUD_ACCESS_KEY_ID: ENV_AK, NCLOUD_SECRET_ACCESS_KEY: ENV_SK, NCLOUD_API_GW: "https://fin-ncloud.apigw.fin-ntruss.com" },
    });
    assert.equal(creds.apiUrl, "https://fin-ncloud.apigw.fin-ntruss.com");
    assert.equal(creds.source, "env");
  });
});

test("environment: NCLOUD_ACCESS_KEY and NCLOUD_SECRET_KEY are fallbacks, in any mix; the _ID names come first", async () => {
  await withHome(async (home) => {
    const fallback = await resolveNcpCredentials({ env: { HOME: home, NCLOUD_ACCESS_KEY: ENV_AK, NCLOUD_SECRET_KEY: ENV_SK } });
    assert.equal(fallback.source, "env");
    assert.equal(fallback.accessKey, ENV_AK);
    assert.equal(fallback.secretKey, ENV_SK);
    const mixed = await resolveNcpCredentials({ env: { HOME: home, NCLOUD_ACCESS_KEY_ID: ENV_AK, NCLOUD_SECRET_KEY: ENV_SK } });
    assert.equal(mixed.source, "env");
    assert.equal(mixed.secretKey, ENV_SK);
    const both = await resolveNcpCredentials({
      env: {
        HOME: home,
        NCLOUD_ACCESS_KEY_ID: ENV_AK,
        NCLOUD_ACCESS_KEY: PROD_AK,
        NCLOUD_SECRET_ACCESS_KEY: ENV_SK,
        NCLOUD_SECRET_KEY: PROD_SK,
      },
    });
    assert.equal(both.accessKey, ENV_AK);
    assert.equal(both.secretKey, ENV_SK);
  });
});

test("environment: only one of the pair (or an empty value) falls back to the file", async () => {
  await withHome(async (home) => {
    const path = writeConfigure(home, CONFIGURE);
    for (const env of [
      { NCLOUD_ACCESS_KEY_ID: ENV_AK },
      { NCLOUD_SECRET_ACCESS_KEY: ENV_SK },
      { NCLOUD_ACCESS_KEY: ENV_AK, NCLOUD_SECRET_KEY: "" },
      { NCLOUD_ACCESS_KEY_ID: "  ", NCLOUD_SECRET_ACCESS_KEY: ENV_SK },
    ]) {
      const creds = await resolveNcpCredentials({ env: { HOME: home, ...env } });
      assert.equal(creds.source, "file", JSON.stringify(Object.keys(env)));
      assert.equal(creds.path, path);
      assert.equal(creds.accessKey, FILE_AK);
      assert.equal(creds.secretKey, FILE_SK);
    }
  });
});

test("file: the DEFAULT section of ~/.ncloud/configure, with its path, profile and API URL", async () => {
  await withHome(async (home) => {
    const path = writeConfigure(home, CONFIGURE);
    const creds = await resolveNcpCredentials({ env: { HOME: home } });
    assert.deepEqual(creds, {
      accessKey: FILE_AK,
      secretKey: FILE_SK,
      apiUrl: "https://ncloud.apigw.ntruss.com",
      source: "file",
      path,
      profile: "DEFAULT",
      warnings: [],
    });
  });
});

test("file: keys before any section belong to DEFAULT (as gopkg.in/ini.v1 reads them)", async () => {
  await withHome(async (home) => {
    writeConfigure(home, `ncloud_access_key_id = ${FILE_AK}\nncloud_secret_access_key = ${FILE_SK}\n`);
    const creds = await resolveNcpCredentials({ env: { HOME: home } });
    assert.equal(creds.accessKey, FILE_AK);
    assert.equal(creds.profile, "DEFAULT");
  });
});

test("file: without ncloud_api_url the API URL is NCLOUD_API_GW, else the default gateway", async () => {
  await withHome(async (home) => {
    writeConfigure(home, `[DEFAULT]\nncloud_access_key_id=${FILE_AK}\nncloud_secret_access_key=${FILE_SK}\n`);
    assert.equal((await resolveNcpCredentials({ env: { HOME: home } })).apiUrl, DEFAULT_NCP_API_URL);
    assert.equal((await resolveNcpCredentials({ env: { HOME: home, NCLOUD_API_GW: "https://gw.example.test" } })).apiUrl, "https://gw.example.test");
  });
});

test("file: the profile option, NCLOUD_PROFILE, and the option over NCLOUD_PROFILE", async () => {
  await withHome(async (home) => {
    writeConfigure(home, `${CONFIGURE}\n[dev]\nncloud_access_key_id = DEVAK\nncloud_secret_access_key = DEVSK\n`);
    const byOption = await resolveNcpCredentials({ env: { HOME: home }, profile: "prod" });
    assert.equal(byOption.profile, "prod");
    assert.equal(byOption.accessKey, PROD_AK);
    assert.equal(byOption.secretKey, PROD_SK);
    assert.equal(byOption.apiUrl, "https://fin-ncloud.apigw.fin-ntruss.com");
    const byEnv = await resolveNcpCredentials({ env: { HOME: home, NCLOUD_PROFILE: "prod" } });
    assert.equal(byEnv.profile, "prod");
    assert.equal(byEnv.accessKey, PROD_AK);
    const both = await resolveNcpCredentials({ env: { HOME: home, NCLOUD_PROFILE: "prod" }, profile: "dev" });
    assert.equal(both.profile, "dev");
    assert.equal(both.accessKey, "DEVAK");
  });
});

test("file: a profile whose name holds a dot is that one section (as gopkg.in/ini.v1 reads it)", async () => {
  await withHome(async (home) => {
    writeConfigure(home, `${CONFIGURE}\n[prod.eu]\nncloud_access_key_id = EUAK\nncloud_secret_access_key = EUSK\n`);
    const creds = await resolveNcpCredentials({ env: { HOME: home }, profile: "prod.eu" });
    assert.equal(creds.profile, "prod.eu");
    assert.equal(creds.accessKey, "EUAK");
    assert.equal(creds.secretKey, "EUSK");
    // [prod] is untouched by its dotted neighbour.
    const prod = await resolveNcpCredentials({ env: { HOME: home }, profile: "prod" });
    assert.equal(prod.accessKey, PROD_AK);
  });
});

test("file: a configure file given by path (--credentialConfig) is read wherever it is", async () => {
  await withHome(async (home) => {
    const path = join(home, "my-configure");
    writeFileSync(path, CONFIGURE, { mode: 0o600 });
    chmodSync(path, 0o600);
    const creds = await resolveNcpCredentials({ env: { HOME: join(home, "elsewhere") }, configFile: path, profile: "prod" });
    assert.equal(creds.path, path);
    assert.equal(creds.accessKey, PROD_AK);
  });
});

test("an unknown profile is ERR_CREDENTIALS naming it, the file, the profiles it has and the fix", async () => {
  await withHome(async (home) => {
    const path = writeConfigure(home, CONFIGURE);
    for (const options of [{ profile: "staging" }, { env: { HOME: home, NCLOUD_PROFILE: "staging" } }]) {
      await refuses({ env: { HOME: home }, ...options }, CredentialsError, ErrorCode.CREDENTIALS, [
        /profile "staging" is not in /,
        new RegExp(path.replaceAll(/[.*+?^${}()|[\]\\/]/g, "\\$&")),
        /\(it has: DEFAULT, prod\)/,
        /choose one of those, or add a \[staging\] section/,
      ]);
    }
  });
});

test("a file without DEFAULT and no profile asked for is ERR_CREDENTIALS", async () => {
  await withHome(async (home) => {
    writeConfigure(home, `[prod]\nncloud_access_key_id = ${PROD_AK}\nncloud_secret_access_key = ${PROD_SK}\n`);
    await refuses({ env: { HOME: home } }, CredentialsError, ErrorCode.CREDENTIALS, [/profile "DEFAULT" is not in .*\(it has: prod\)/]);
  });
});

test("a section without keys, or with one key, is ERR_CREDENTIALS naming the missing key", async () => {
  await withHome(async (home) => {
    writeConfigure(home, `[DEFAULT]\n\n[prod]\nncloud_access_key_id = ${PROD_AK}\n`);
    await refuses({ env: { HOME: home } }, CredentialsError, ErrorCode.CREDENTIALS, [/profile "DEFAULT" .* has no ncloud_access_key_id or ncloud_secret_access_key: add them/]);
    await refuses({ env: { HOME: home }, profile: "prod" }, CredentialsError, ErrorCode.CREDENTIALS, [/profile "prod" .* has no ncloud_secret_access_key: add it to the \[prod\] section/]);
  });
});

test("no environment and no file: ERR_CREDENTIALS naming the variables and the file; ~/.ncloud is not created", async () => {
  await withHome(async (home) => {
    await refuses({ env: { HOME: home } }, CredentialsError, ErrorCode.CREDENTIALS, [
      /NCLOUD_ACCESS_KEY_ID/,
      /NCLOUD_SECRET_ACCESS_KEY/,
      /~\/\.ncloud\/configure/,
      /another configure file/,
    ]);
    assert.equal(existsSync(join(home, ".ncloud")), false);
  });
});

test("a file asked for by path or a profile asked for by name must exist; nothing is created", async () => {
  await withHome(async (home) => {
    const missing = join(home, "nope", "configure");
    await refuses({ env: { HOME: home }, configFile: missing }, CredentialsError, ErrorCode.CREDENTIALS, [/credential file .*nope\/configure does not exist/]);
    assert.equal(existsSync(join(home, "nope")), false);
    await refuses({ env: { HOME: home }, profile: "prod" }, CredentialsError, ErrorCode.CREDENTIALS, [/\.ncloud\/configure does not exist/]);
    await refuses({ env: { HOME: home, NCLOUD_PROFILE: "prod" } }, CredentialsError, ErrorCode.CREDENTIALS, [/does not exist/]);
    assert.equal(existsSync(join(home, ".ncloud")), false);
  });
});

test("a directory where the file should be is ERR_CONFIG_FILE naming the path", async () => {
  await withHome(async (home) => {
    const path = join(home, ".ncloud", "configure");
    mkdirSync(path, { recursive: true });
    const e = await refuses({ env: { HOME: home } }, ConfigFileError, ErrorCode.CONFIG_FILE, [/credential file .*\.ncloud\/configure is a directory/]);
    assert.ok(e instanceof ConfigFileError);
    assert.equal(e.path, path);
    assert.equal((e.cause as NodeJS.ErrnoException).code, "EISDIR");
  });
});

test("an unreadable file (mode 000) is ERR_CONFIG_FILE", { skip: process.getuid?.() === 0 ? "root reads any file" : false }, async () => {
  await withHome(async (home) => {
    writeConfigure(home, CONFIGURE, 0o000);
    await refuses({ env: { HOME: home } }, ConfigFileError, ErrorCode.CONFIG_FILE, [/cannot read credential file .*\(EACCES\): check its permissions/]);
  });
});

test("a malformed file is ERR_CONFIG_FILE naming the line, never its content", async () => {
  await withHome(async (home) => {
    // A secret pasted on a line of its own: the message must point at it without repeating it.
    writeConfigure(home, `[DEFAULT]\nncloud_access_key_id = ${FILE_AK}\n${FILE_SK}\n`);
    await refuses({ env: { HOME: home } }, ConfigFileError, ErrorCode.CONFIG_FILE, [/\.ncloud\/configure is malformed at line 3: expected "\[profile\]" or "key = value"/]);
  });
  await withHome(async (home) => {
    writeConfigure(home, Buffer.from([0x00, 0xff, 0xfe, 0x10, 0x0a, 0x89, 0x50, 0x4e, 0x47]));
    await refuses({ env: { HOME: home } }, ConfigFileError, ErrorCode.CONFIG_FILE, [/is malformed at line 1/]);
  });
  await withHome(async (home) => {
    writeConfigure(home, `[DEFAULT\nncloud_access_key_id = ${FILE_AK}\n`);
    await refuses({ env: { HOME: home } }, ConfigFileError, ErrorCode.CONFIG_FILE, [/is malformed at line 1/]);
  });
});

test("comments, blank lines and CRLF line ends are fine", async () => {
  await withHome(async (home) => {
    writeConfigure(home, `; written by ncloud configure\r\n# another comment\r\n\r\n[DEFAULT]\r\nncloud_access_key_id = ${FILE_AK}\r\nncloud_secret_access_key = ${FILE_SK}\r\n`);
    const creds = await resolveNcpCredentials({ env: { HOME: home } });
    assert.equal(creds.accessKey, FILE_AK);
    assert.equal(creds.secretKey, FILE_SK);
  });
});

test("quoted values lose their quotes; an unquoted value ends at an inline comment", async () => {
  await withHome(async (home) => {
    writeConfigure(home, `[DEFAULT]\nncloud_access_key_id = "${FILE_AK}"\nncloud_secret_access_key = '${FILE_SK}'\nncloud_api_url = https://ncloud.apigw.ntruss.com ; the public gateway\n[prod]\nncloud_access_key_id=${PROD_AK}# set by ops\nncloud_secret_access_key = \`${PROD_SK}\`\n`);
    const creds = await resolveNcpCredentials({ env: { HOME: home } });
    assert.deepEqual([creds.accessKey, creds.secretKey, creds.apiUrl], [FILE_AK, FILE_SK, "https://ncloud.apigw.ntruss.com"]);
    const prod = await resolveNcpCredentials({ env: { HOME: home }, profile: "prod" });
    assert.deepEqual([prod.accessKey, prod.secretKey], [PROD_AK, PROD_SK]);
  });
});

/**
 * How gopkg.in/ini.v1 (default LoadOptions, as the official tool loads ~/.ncloud/configure) reads a
 * value, from its parser.go readValue: a value opening with a backtick or three double quotes runs
 * to the last one on the line, comments and all; any other value is trimmed, cut at its first # or ;
 * and trimmed again, and then loses one pair of surrounding ' or " quotes when that quote is not
 * also inside. Expected values written by hand from those rules.
 */
const GO_INI_VALUES: [raw: string, read: string][] = [
  ['"S1" # comment', "S1"],
  ["'S1' ; comment", "S1"],
  ['"S1"', "S1"],
  ["'S1'", "S1"],
  ["S1 # comment", "S1"],
  ["S1#comment", "S1"],
  ["S1;comment", "S1"],
  ['"S1"#x', "S1"],
  ['"a#b"', '"a'], // cut at the # first: the quote pair is broken and kept
  ['"a"b"', '"a"b"'], // the quote is also inside: kept
  ["`a#b;c`", "a#b;c"],
  ["`S1` # after", "S1"],
  ['"""a # b"""', "a # b"],
  ['"S1', '"S1'],
  ["  S1  ", "S1"],
  ["''", ""],
];

test("configure values are read as gopkg.in/ini.v1 reads them: inline comments first, then one pair of quotes", async () => {
  for (const [raw, read] of GO_INI_VALUES) {
    await withHome(async (home) => {
      writeConfigure(home, `[DEFAULT]\nncloud_access_key_id = ${FILE_AK}\nncloud_secret_access_key = ${FILE_SK}\nncloud_api_url = ${raw}\n`);
      const creds = await resolveNcpCredentials({ env: { HOME: home } });
      assert.equal(creds.apiUrl, read === "" ? DEFAULT_NCP_API_URL : read, raw);
    });
  }
  // The case, on the secret itself.
  await withHome(async (home) => {
    writeConfigure(home, `[DEFAULT]\nncloud_access_key_id = ${FILE_AK} # mine\nncloud_secret_access_key = "${FILE_SK}" # comment\n`);
    const creds = await resolveNcpCredentials({ env: { HOME: home } });
    assert.deepEqual([creds.accessKey, creds.secretKey], [FILE_AK, FILE_SK]);
  });
});

test("a section header may carry a comment, and ':' separates a key from its value, as in gopkg.in/ini.v1", async () => {
  await withHome(async (home) => {
    writeConfigure(home, `[prod] # production\nncloud_access_key_id: ${PROD_AK}\nncloud_secret_access_key : ${PROD_SK}\n`);
    const creds = await resolveNcpCredentials({ env: { HOME: home }, profile: "prod" });
    assert.deepEqual([creds.accessKey, creds.secretKey], [PROD_AK, PROD_SK]);
  });
});

test("a section header without a name, or a key without a value sign, is malformed", async () => {
  for (const text of [`[]\nncloud_access_key_id = ${FILE_AK}\n`, `[DEFAULT]\n= ${FILE_AK}\n`, `[DEFAULT]\nncloud_access_key_id ${FILE_AK}\n`]) {
    await withHome(async (home) => {
      writeConfigure(home, text);
      await refuses({ env: { HOME: home } }, ConfigFileError, ErrorCode.CONFIG_FILE, [/is malformed at line (1|2)/]);
    });
  }
});

test("a file that others can read draws a warning naming it and chmod 600; mode 600 draws none", async () => {
  for (const mode of [0o644, 0o640, 0o604]) {
    await withHome(async (home) => {
      const path = writeConfigure(home, CONFIGURE, mode);
      const creds = await resolveNcpCredentials({ env: { HOME: home } });
      assert.equal(creds.warnings.length, 1, mode.toString(8));
      const [warning] = creds.warnings;
      assert.ok(warning !== undefined);
      assert.ok(warning.includes(path));
      assert.ok(warning.includes(`mode ${mode.toString(8)}`));
      assert.ok(warning.includes(`chmod 600 ${path}`));
      noSecretsIn(creds.warnings);
    });
  }
  for (const mode of [0o600, 0o400]) {
    await withHome(async (home) => {
      writeConfigure(home, CONFIGURE, mode);
      assert.deepEqual((await resolveNcpCredentials({ env: { HOME: home } })).warnings, []);
    });
  }
});

test("section names with control characters are escaped in messages, which stay one line (found by the fuzz pass)", async () => {
  await withHome(async (home) => {
    writeConfigure(home, `[D\rFAULT]\nncloud_access_key_id = ${FILE_AK}\nncloud_secret_access_key = ${FILE_SK}\n[x\u001b[2J]\n`);
    await assert.rejects(
      () => resolveNcpCredentials({ env: { HOME: home } }),
      (e: unknown) => e instanceof CredentialsError && /\(it has: "D\\rFAULT", "x\\u001b\[2J"\)/.test(e.message) && !/[\r\n\u001b]/.test(e.message),
    );
  });
});
