/**
 * Tells a broker that moved to HTTPS from one that is down: when a plain `http://` request is cut
 * off or answered with a bare 400 (what a TLS port says to plain HTTP), one TLS handshake with the
 * same host and port, certificate unchecked and nothing sent, shows whether it speaks HTTPS.
 */
import { NetworkError } from "../../lib/errors.js";

/** Whether a TLS handshake with `url`'s host and port completes within `timeoutMs` (the certificate is not judged). */
export async function speaksTls(url: URL, timeoutMs = 3000): Promise<boolean> {
  const { connect } = await import("node:tls");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host, port: Number(url.port || 80), rejectUnauthorized: false, ...(/^[\d.:]+$/.test(host) ? {} : { servername: host }) });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("secureConnect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("close", () => done(false));
  });
}

/**
 * The error for a plain-HTTP `--server` whose broker speaks HTTPS, naming the https:// address to use.
 *
 * @example
 * ```ts
 * if (await speaksTls(url)) throw httpsOnlyError(url);
 * ```
 */
export function httpsOnlyError(url: URL, cause?: unknown): NetworkError {
  const https = `https://${url.host}`;
  return new NetworkError(
    `broker ${url.origin} speaks HTTPS, not plain HTTP: use ${https} as --server (a kubeconfig written for ${url.origin}: run 'kubeiam broker update-kubeconfig --server ${https} --cluster NAME' again)`,
    cause === undefined ? {} : { cause },
  );
}

/** Error codes of a connection cut off or answered with something that is not HTTP. */
export function isCutOff(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && e instanceof Error; depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && (code === "ECONNRESET" || code === "ERR_BROKER_CUT" || code === "EPIPE" || code.startsWith("HPE_") || code === "UND_ERR_SOCKET")) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
