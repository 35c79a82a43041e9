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
 * The scrubber merges all secrets' variants under their first character (scrub.ts). The pattern is linear: a sequence of per-character alternations that differ in their first
 * character, and the only quantifiers are bounded runs of backslashes, so a hostile text cannot
 * make the match backtrack beyond a constant per position.
 */

/** One to 31 backslashes: a JSON escape, possibly inside up to four more levels of JSON strings. */
const BACKSLASHES = '\\\\{1,31}';
/** The same run once its first backslash is matched. */
const MORE_BACKSLASHES = '\\\\{0,30}';
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

/**
 * One way to write one character: a literal first character and the pattern after it, so the
 * scrubber can merge every secret's alternatives under their first character (the regex engine
 * then rejects most positions with one comparison). `first: null` is a token with no single
 * first character (a run of backslashes).
 */
export type Alternative = { first: string; rest: string } | { first: null; source: string };
export type Token = Alternative[];

/** The secret's encodings, each a sequence of tokens; see secretPattern for one regex source. */
export function secretVariants(value: string): Token[][] {
  const bytes = Buffer.from(value, 'utf8');
  const variants = [textTokens(value), hexTokens(bytes.toString('hex'))];
  for (const fragment of base64Fragments(bytes)) {
    variants.push(base64Tokens(fragment), base64Tokens(fragment.replace(/\+/g, '-').replace(/\//g, '_')));
  }
  return variants;
}

/** One regex source for the secret in every encoding (tests and single-secret use). */
export function secretPattern(value: string): string {
  return `(?:${secretVariants(value).map(variantSource).join('|')})`;
}

export function variantSource(tokens: Token[]): string {
  return tokens.map(tokenSource).join('');
}

export function alternativeSource(a: Alternative): string {
  return a.first === null ? a.source : escapeRegExp(a.first) + a.rest;
}

function tokenSource(token: Token): string {
  return token.length === 1 ? alternativeSource(token[0]!) : `(?:${token.map(alternativeSource).join('|')})`;
}

/** The value's characters, each in any of its literal, JSON-escaped or URL-encoded forms. */
function textTokens(value: string): Token[] {
  const out: Token[] = [];
  const chars = Array.from(value);
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '\\') {
      // A run of backslashes is one token: `\`, `\\`, `\\\\`, `\u005c`, `%5C` … repeated.
      let m = 1;
      while (chars[i + m] === '\\') m++;
      out.push([{ first: null, source: `(?:\\\\|u005[cC]|%(?:25)?5[cC]){${m},${32 * m}}` }]);
      i += m - 1;
      continue;
    }
    out.push(charToken(chars[i]!));
  }
  return out;
}

function charToken(ch: string): Token {
  const token: Token = [
    { first: ch, rest: '' },
    { first: '\\', rest: MORE_BACKSLASHES + unicodeEscape(ch) },
    { first: '%', rest: percentEncoded(ch).slice(1) },
  ];
  const short = SHORT_ESCAPES[ch];
  if (short !== undefined) token.push({ first: '\\', rest: MORE_BACKSLASHES + escapeRegExp(short) });
  if (ch === ' ') token.push({ first: '+', rest: '' });
  return token;
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

function hexTokens(hex: string): Token[] {
  return Array.from(hex, (d) =>
    /[a-f]/.test(d)
      ? [
          { first: d, rest: '' },
          { first: d.toUpperCase(), rest: '' },
        ]
      : [{ first: d, rest: '' }],
  );
}

function anyCaseHex(hex: string): string {
  return hex.replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);
}

function base64Tokens(fragment: string): Token[] {
  return Array.from(fragment, (c): Token => {
    if (c === '+') {
      return [
        { first: '+', rest: '' },
        { first: '%', rest: '(?:25)?2[bB]' },
        { first: '\\', rest: `${MORE_BACKSLASHES}u002[bB]` },
      ];
    }
    if (c === '/') {
      return [
        { first: '/', rest: '' },
        { first: '\\', rest: `${MORE_BACKSLASHES}(?:/|u002[fF])` },
        { first: '%', rest: '(?:25)?2[fF]' },
      ];
    }
    return [{ first: c, rest: '' }];
  });
}

/** At each byte alignment, the base64 characters whose six bits all come from the value. */
export function base64Fragments(bytes: Buffer): string[] {
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

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
