/**
 * Small checks that input from outside (flags, environment, files, HTTP bodies) goes through where
 * it enters, shared by every cloud. No messages here: callers name the field.
 */

/**
 * True for a plain object (a JSON object or a YAML mapping): not null, not an array.
 *
 * @example
 * ```ts
 * isRecord({ a: 1 }); // true
 * isRecord([1]);      // false
 * ```
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The value trimmed, or `undefined` when it is absent or only white space (environment variables,
 * configuration values).
 *
 * @example
 * ```ts
 * nonEmpty("  KR "); // "KR"
 * nonEmpty("   ");   // undefined
 * ```
 */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/**
 * The value as given, or `undefined` when it is absent or only white space (an option that may be
 * left blank, such as a name; unlike {@link nonEmpty}, nothing is trimmed).
 *
 * @example
 * ```ts
 * given("my name"); // "my name"
 * given("");        // undefined
 * ```
 */
export function given(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** A UUID in its 8-4-4-4-12 hexadecimal form, either case. */
export const UUID_RE = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/**
 * A key as it may enter a signature (NCP docs/formats.md §1, AWS keys, sandbox keys): non-empty, no
 * white space, no control characters.
 */
export const KEY_RE = /^[^\s\p{Cc}]+$/u;
