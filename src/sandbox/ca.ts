/**
 * A throw-away certificate authority for local TLS endpoints (the sandbox, tests): a CA made at
 * start and server certificates for loopback names, all in memory.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as webcrypto.Crypto & Parameters<typeof x509.cryptoProvider.set>[1]);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A CA's certificate and the means to issue more. */
export interface LocalCa {
  /** The CA certificate, PEM. Clients trust this (kubeconfig `certificate-authority-data`). */
  certPem: string;
  /** Issues a server certificate for the given DNS names and IP addresses. */
  issueServerCert(names: { dns?: string[]; ips?: string[] }): Promise<{ certPem: string; keyPem: string }>;
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString("hex").replace(/^[89a-f]/, "1");
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/**
 * Makes a new CA, valid from an hour ago (clock skew) for `days` days.
 *
 * @example
 * ```ts
 * const ca = await createLocalCa("kubeiam sandbox CA");
 * const { certPem, keyPem } = await ca.issueServerCert({ dns: ["localhost"], ips: ["127.0.0.1"] });
 * https.createServer({ cert: certPem, key: keyPem }, handler);
 * ```
 */
export async function createLocalCa(commonName: string, days = 7): Promise<LocalCa> {
  const notBefore = new Date(Date.now() - 60 * 60 * 1000);
  const notAfter = new Date(Date.now() + days * 24 * 60 * 60 * 1000);
  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  return {
    certPem: caCert.toString("pem") + "\n",
    async issueServerCert(names) {
      const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
      const entries = [
        ...(names.dns ?? []).map((value) => ({ type: "dns" as const, value })),
        ...(names.ips ?? []).map((value) => ({ type: "ip" as const, value })),
      ];
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${names.dns?.[0] ?? names.ips?.[0] ?? "localhost"}`,
        issuer: caCert.subject,
        notBefore,
        notAfter,
        signingKey: caKeys.privateKey,
        publicKey: keys.publicKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension(entries),
          await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
        ],
      });
      const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
      return { certPem: cert.toString("pem") + "\n", keyPem: toPem(pkcs8, "PRIVATE KEY") };
    },
  };
}
