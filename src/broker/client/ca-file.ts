/**
 * The broker's CA for clients whose broker has a certificate from a private CA (`--ca-file PEM`).
 */
import { resolve } from "node:path";
import { ConfigFileError, KubeiamError } from "../../lib/errors.js";
import { readUserFile } from "../../lib/read-file.js";
import { brokerCredentialsFile, normalizeBrokerServer, readBrokerCredentials } from "./credentials.js";

/**
 * Reads a PEM CA file given with `--ca-file`; one line naming the file when it is not one.
 *
 * @example
 * ```ts
 * const ca = await readBrokerCaFile("/etc/kubeiam/broker-ca.pem");
 * ```
 */
export async function readBrokerCaFile(path: string): Promise<string> {
  let text: string;
  try {
    text = (await readUserFile(resolve(path), { what: "--ca-file" })).text;
  } catch (cause) {
    if (cause instanceof KubeiamError) throw cause;
    throw new ConfigFileError(path, `cannot read --ca-file ${path} (${(cause as NodeJS.ErrnoException).code ?? "error"}): pass the PEM file of the broker's CA`, { cause });
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new ConfigFileError(path, `--ca-file ${path} holds no PEM certificate: pass the broker's CA certificate (-----BEGIN CERTIFICATE-----)`);
  }
  return text;
}

/**
 * The broker's CA for a command to `server`: `--ca-file` when given (it wins), else the one
 * `kubeiam broker login --ca-file` kept for that server in ~/.kubeiam/credentials.json, else none
 * (Node's CAs, with NODE_EXTRA_CA_CERTS).
 *
 * @example
 * ```ts
 * const ca = await brokerCaFor("https://broker.example:8750", values["ca-file"], ctx.env);
 * ```
 */
export async function brokerCaFor(server: string, flag: string | undefined, env: Record<string, string | undefined>): Promise<string | undefined> {
  if (flag !== undefined) return readBrokerCaFile(flag);
  return (await readBrokerCredentials(brokerCredentialsFile(env))).servers[normalizeBrokerServer(server)]?.ca;
}
