/**
 * A local OpenID Connect identity provider for the sandbox, the demo and the tests: oidc-provider (a
 * certified OP, a devDependency loaded only here) on loopback, with people, groups, refresh tokens,
 * its development login and consent pages, and a switch that disables a person (their refresh is
 * then refused, as when someone leaves the organisation). The broker is registered as a confidential
 * native client whose redirect URI is `http://127.0.0.1/v1/login/callback` on any port (RFC 8252 7.3).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";

/** A person the provider knows. */
export interface SandboxIdpPerson {
  /** What they type on the login page (any password works). */
  login: string;
  email: string;
  groups: string[];
}

/** A running provider. */
export interface SandboxIdp {
  /** The issuer (`http://127.0.0.1:PORT`). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Refuses a person from now on: their sign-ins and their refresh tokens. */
  disable(login: string): void;
  /** Grant requests answered, by grant type (`authorization_code`, `refresh_token`). */
  grants: Record<string, number>;
  close(): Promise<void>;
}

/** The three people of the sign-in check (issue 19): carol (platform), dave (no group), erin (admins). */
export const SANDBOX_IDP_PEOPLE: readonly SandboxIdpPerson[] = [
  { login: "carol", email: "carol@example.com", groups: ["platform"] },
  { login: "dave", email: "dave@example.com", groups: [] },
  { login: "erin", email: "erin@example.com", groups: ["kubeiam-admins"] },
];

interface ProviderLike {
  callback(): (req: unknown, res: unknown) => void;
  on(event: string, listener: (...args: unknown[]) => void): void;
}

/**
 * Starts the provider on 127.0.0.1 (a free port unless given).
 *
 * @example
 * ```ts
 * const idp = await startSandboxIdp();
 * // kubeiam serve --oidc-issuer idp.issuer --oidc-client-id idp.clientId (secret: idp.clientSecret)
 * ```
 */
export async function startSandboxIdp(options: { people?: readonly SandboxIdpPerson[]; port?: number; accessTokenTtlS?: number } = {}): Promise<SandboxIdp> {
  const people = new Map((options.people ?? SANDBOX_IDP_PEOPLE).map((p) => [p.login, p]));
  const disabled = new Set<string>();
  const clientId = "kubeiam-broker";
  const clientSecret = randomBytes(24).toString("base64url");
  const grants: Record<string, number> = {};

  // The port first: the issuer is part of the provider's configuration.
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // A variable specifier: oidc-provider ships no types, and is a devDependency loaded only here.
  const name = "oidc-provider";
  // Its start-up warnings (a Node 20 runtime, the in-memory store, development keys and login pages)
  // are what a sandbox is: kept off the demo's and the tests' output.
  const { warn, info } = console;
  console.warn = () => undefined;
  console.info = () => undefined;
  let provider: ProviderLike;
  try {
    const { default: Provider } = (await import(name)) as { default: new (issuer: string, config: object) => ProviderLike };
    provider = new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          application_type: "native",
          redirect_uris: ["http://127.0.0.1/v1/login/callback"],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "client_secret_basic",
        },
      ],
      cookies: { keys: [randomBytes(32).toString("base64url")] },
      jwks: undefined,
      claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "groups"] },
      features: { devInteractions: { enabled: true }, userinfo: { enabled: true } },
      pkce: { required: () => true },
      // Refresh tokens without insisting on prompt=consent, as most providers give them to confidential clients.
      issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) => client.grantTypeAllowed("refresh_token"),
      ttl: { AccessToken: options.accessTokenTtlS ?? 600, IdToken: 600, RefreshToken: 86_400, Interaction: 600, Session: 86_400, Grant: 86_400, AuthorizationCode: 120 },
      findAccount: async (_ctx: unknown, id: string) => {
        const person = people.get(id);
        if (person === undefined || disabled.has(id)) return undefined;
        return {
          accountId: id,
          claims: async () => ({ sub: id, email: person.email, email_verified: true, name: person.login, groups: person.groups }),
        };
      },
    });
  } finally {
    console.warn = warn;
    console.info = info;
  }
  provider.on("grant.success", (ctx: unknown) => {
    const type = (ctx as { oidc?: { params?: { grant_type?: string } } }).oidc?.params?.grant_type ?? "unknown";
    grants[type] = (grants[type] ?? 0) + 1;
  });
  server.on("request", provider.callback());
  return {
    issuer,
    clientId,
    clientSecret,
    grants,
    disable: (login) => void disabled.add(login),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
