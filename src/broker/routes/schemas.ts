/**
 * JSON schemas shared by the route groups: names, and the error answer every refusal has.
 */

/** A user, credential or cluster name: 1-63 letters, digits, `.`, `_` and `-`, starting with a letter or digit. */
export const NAME_SCHEMA = { type: "string", minLength: 1, maxLength: 63, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$" } as const;

/**
 * A user name: a {@link NAME_SCHEMA} name, or an e-mail address as identity providers name people
 * (`carol@example.com`, the default username claim): also `@` and `+`, up to 254 characters.
 */
export const USER_NAME_SCHEMA = { type: "string", minLength: 1, maxLength: 254, pattern: "^[A-Za-z0-9][A-Za-z0-9._@+-]*$" } as const;

/** A secret or identifier given by the caller: non-empty, bounded. */
export const SECRET_SCHEMA = { type: "string", minLength: 1, maxLength: 4096 } as const;

/**
 * The schema of path parameters that are all names.
 *
 * @example
 * ```ts
 * app.delete("/v1/users/:name", { schema: { params: nameParams("name") } }, handler);
 * ```
 */
export function nameParams(...names: string[]): Record<string, unknown> {
  return { type: "object", required: names, properties: Object.fromEntries(names.map((n) => [n, NAME_SCHEMA])) };
}
