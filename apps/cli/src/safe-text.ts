/**
 * Untrusted text made safe to show a person on a terminal. An agent chooses the arguments an
 * approver reads; a remote MCP server chooses its tool names, titles and descriptions; error
 * messages echo input. Raw, any of them could move the cursor, erase or rewrite a line (ESC/CSI,
 * "\r", backspace), plant a hyperlink or set the window title (OSC), reorder what the eye reads
 * (bidi overrides and isolates: "Trojan Source", CVE-2021-42574) or hide characters (zero-width
 * and other format characters, tag characters), so an approver would be shown something other
 * than what runs. Every byte the CLI writes goes through this module (output.ts): such code
 * points are shown as visible escapes (`\u202e`), never passed to the terminal.
 */

/**
 * What is never written raw: controls (C0, DEL, C1: \p{Cc}), format characters (\p{Cf}: bidi
 * controls U+061C U+200E U+200F U+202A–U+202E U+2066–U+2069, zero-width U+200B–U+200D, U+2060–
 * U+2064, U+FEFF, soft hyphen, tag characters U+E0000–U+E007F, …), lone surrogates, line and
 * paragraph separators, spaces other than U+0020, every default-ignorable code point (Unicode's
 * "render invisibly" list: variation selectors, the combining grapheme joiner, Hangul fillers,
 * Khmer and Mongolian invisible marks, …) and the Braille blank, which looks like a space.
 */
const UNSAFE = /[[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Zs}\p{Default_Ignorable_Code_Point}\u2800]--[\x20]]/gv;

/** `\n`, `\r`, `\t` by name (people know them); everything else as `\uXXXX` or `\u{XXXXX}`. */
export function escapeCodePoint(ch: string): string {
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (ch === '\t') return '\\t';
  const cp = ch.codePointAt(0)!;
  return cp <= 0xffff ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\u{${cp.toString(16)}}`;
}

/**
 * Text for the terminal. `multiline` keeps newline and tab (for our own multi-line output and for
 * documents such as a policy file); "\r" is always escaped, since it returns the cursor to the
 * start of the line and lets what follows overwrite what the approver already read.
 */
export function safeText(text: string, options: { multiline?: boolean } = {}): string {
  const keep = options.multiline ? '\n\t' : '';
  return text.replace(UNSAFE, (ch) => (keep.includes(ch) ? ch : escapeCodePoint(ch)));
}

/** One value on one line (a table cell, a field of a view): newlines are escaped too. */
export function oneLine(value: unknown): string {
  return safeText(String(value));
}

/** How many code points `safeText` would escape in a single-line rendering. */
export function countUnsafe(text: string): number {
  return text.match(UNSAFE)?.length ?? 0;
}

/**
 * A JSON document whose text holds no raw control, bidi, format or invisible character: each is
 * written as `\uXXXX` (UTF-16 units, per RFC 8259 §7), so the document parses to exactly the
 * value given. JSON.stringify already escapes C0 controls and lone surrogates inside strings, and
 * every raw newline it emits is structure, which stays.
 */
export function safeJson(value: unknown, indent = 2): string {
  const text = JSON.stringify(value, null, indent) ?? 'null';
  return text.replace(UNSAFE, (ch) => {
    if (ch === '\n') return ch;
    let out = '';
    for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}
