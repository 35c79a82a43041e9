/**
 * One regular expression per secret that matches the secret in every encoding an upstream, a
 * remote MCP server or a log line may carry it in:
 *
 * - per character, independently (servers mix forms): the literal character; a JSON `\uXXXX`
 *   escape with either hex case; the JSON two-character escapes (`\"`, `\\`, `\/`, `\n`, …)
 *   where the character has one; each of these behind any number of backslashes up to 31, which
 *   is JSON text embedded in a JSON string up to five levels deep; URL-encoding of its UTF-8
 *   bytes with either hex case (also for characters that need none, and `%25XX` double
 *   encoding); `+` for a space;
 * - hex of the UTF-8 bytes, any case per digit;
 * - base64 and base64url of the UTF-8 bytes at all three byte alignments (the characters whose
 *   six bits all come from the secret, so "user:secret" inside Basic auth is found too), with
 *   `+` and `/` themselves allowed in their JSON- and URL-escaped forms.
 *
 * The pattern is linear: a sequence of per-character alternations that differ in their first
 * character, and the only quantifiers are bounded runs of backslashes, so a hostile text cannot
 * make the match backtrack beyond a constant per position.
 */

/** One to 31 backslashes: a JSON escape, possibly inside up to four more levels of JSON strings. */
const BACKSLASHES = '\\\\{1,31}';
const MIN_FRAGMENT_LENGTH = 8;

/** JSON's two-character escapes (RFC 8259 §7) other than `\\`, which is handled as a run. */
const SHORT_ESCAPES: Record<string, string> = {
  '"': '"',
  '/': '/',
  '\b': 'b',
  '\f': 'f',
  '\n': 'n',
  '\r': 'r',
  '\t': 't',
};

export function secretPattern(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  const variants = [textPattern(value), hexPattern(bytes.toString('hex'))];
  for (const fragment of base64Fragments(bytes)) {
    variants.push(base64Pattern(fragment), base64Pattern(fragment.replace(/\+/g, '-').replace(/\//g, '_')));
  }
  return `(?:${[...new Set(variants)].join('|')})`;
}

/** The value's characters, each in any of its literal, JSON-escaped or URL-encoded forms. */
function textPattern(value: string): string {
  const out: string[] = [];
  const chars = Array.from(value);
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '\\') {
      // A run of backslashes is one token: `\`, `\\`, `\\\\`, `\u005c`, `%5C` … repeated.
      let m = 1;
      while (chars[i + m] === '\\') m++;
      out.push(`(?:\\\\|u005[cC]|%(?:25)?5[cC]){${m},${32 * m}}`);
      i += m - 1;
      continue;
    }
    out.push(charPattern(chars[i]!));
  }
  return out.join('');
}

function charPattern(ch: string): string {
  const alternatives = [escapeRegExp(ch), BACKSLASHES + unicodeEscape(ch), percentEncoded(ch)];
  const short = SHORT_ESCAPES[ch];
  if (short !== undefined) alternatives.push(BACKSLASHES + escapeRegExp(short));
  if (ch === ' ') alternatives.push('\\+');
  return `(?:${alternatives.join('|')})`;
}

/** `uXXXX` per UTF-16 code unit (a surrogate pair is two escapes), hex digits in any case. */
function unicodeEscape(ch: string): string {
  const units: string[] = [];
  for (let i = 0; i < ch.length; i++) units.push(`u${anyCaseHex(ch.charCodeAt(i).toString(16).padStart(4, '0'))}`);
  return units.join(BACKSLASHES);
}

function percentEncoded(ch: string): string {
  return [...Buffer.from(ch, 'utf8')].map((b) => `%(?:25)?${anyCaseHex(b.toString(16).padStart(2, '0'))}`).join('');
}

function hexPattern(hex: string): string {
  return anyCaseHex(hex);
}

function anyCaseHex(hex: string): string {
  return hex.replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);
}

function base64Pattern(fragment: string): string {
  return Array.from(fragment, (c) => {
    if (c === '+') return `(?:\\+|%(?:25)?2[bB]|${BACKSLASHES}u002[bB])`;
    if (c === '/') return `(?:/|${BACKSLASHES}/|%(?:25)?2[fF]|${BACKSLASHES}u002[fF])`;
    return c;
  }).join('');
}

/** At each byte alignment, the base64 characters whose six bits all come from the value. */
function base64Fragments(bytes: Buffer): string[] {
  const fragments: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const start = Math.ceil((8 * shift) / 6);
    const end = Math.floor((8 * (shift + bytes.length)) / 6);
    const fragment = encoded.slice(start, end);
    if (fragment.length >= MIN_FRAGMENT_LENGTH) fragments.push(fragment);
  }
  return fragments;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
