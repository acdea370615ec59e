/**
 * Byte-wise mutation for fuzzing: a few edits (flip a bit, set a byte, insert, delete, duplicate a
 * span) at positions taken modulo the input's length, so that every edit lands somewhere.
 */
import fc from "fast-check";

/** One edit of a byte string. */
export interface Edit {
  kind: "flip" | "set" | "insert" | "delete" | "duplicate";
  at: number;
  byte: number;
  bit: number;
  span: number;
}

/** One to `max` edits; `bytes` are the values that `set` and `insert` favour (all bytes otherwise). */
export function edits(max = 4, bytes?: readonly number[]): fc.Arbitrary<Edit[]> {
  const byte = bytes === undefined ? fc.integer({ min: 0, max: 255 }) : fc.oneof(fc.constantFrom(...bytes), fc.integer({ min: 0, max: 255 }));
  return fc.array(
    fc.record({
      kind: fc.constantFrom("flip", "set", "insert", "delete", "duplicate"),
      at: fc.nat(),
      byte,
      bit: fc.integer({ min: 0, max: 7 }),
      span: fc.integer({ min: 1, max: 16 }),
    }),
    { minLength: 1, maxLength: max },
  );
}

/** The input with the edits applied in order. */
export function applyEdits(input: Buffer, list: readonly Edit[]): Buffer {
  let b = Buffer.from(input);
  for (const e of list) {
    const at = b.length === 0 ? 0 : e.at % b.length;
    switch (e.kind) {
      case "flip":
        if (b.length > 0) b[at] = (b[at] ?? 0) ^ (1 << e.bit);
        break;
      case "set":
        if (b.length > 0) b[at] = e.byte;
        break;
      case "insert":
        b = Buffer.concat([b.subarray(0, at), Buffer.from([e.byte]), b.subarray(at)]);
        break;
      case "delete":
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.span)]);
        break;
      case "duplicate":
        b = Buffer.concat([b.subarray(0, at + e.span), b.subarray(at)]);
        break;
    }
  }
  return b;
}

/** Byte values of the given characters, to favour in edits (syntax of the format under test). */
export const bytesOf = (chars: string): number[] => [...Buffer.from(chars, "latin1")];

// Characters that break things: controls, line and bidi marks, quotes and escapes, a lone surrogate, an astral one.
const NASTY = [..."\u0000\u0007\b\t\n\r\u001b\u007f\u0085\u009b\u00a0\u2028\u2029\u200e\u202e\u2066\ufeff\ufffd\"'\\/%&<>{}[]:=#;-* \u00e9"].concat(["\ud800", "\udfff", "\u{1f600}", "\u{e0001}"]);

/**
 * One character: often a troublesome one, else any code point (lone surrogates included). Built
 * by hand: fast-check's `unit: "binary"` takes seconds to set up.
 */
export const anyChar: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
);

/** Text of up to `maxLength` characters from {@link anyChar}. */
export const anyText = (maxLength: number): fc.Arbitrary<string> => fc.string({ unit: anyChar, maxLength });
