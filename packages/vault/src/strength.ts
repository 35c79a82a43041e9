/**
 * How guessable a secret value is, estimated conservatively from its structure alone.
 *
 * Why it matters: the output firewall replaces a secret's value wherever it appears. Where the
 * replacement appears is itself an answer to "is this string the secret?", so an agent that can
 * make a tool return text of its choosing (`echo`, an API that reflects its query) can test
 * candidates. That oracle is harmless only when guessing is infeasible. So the firewall scrubs
 * only strong secrets, and a weak secret is never handed to a tool at all (see Vault.forTool).
 *
 * The threshold: an agent can put ~10^4–10^5 candidates in one call and make ~10^3 calls a
 * second locally, about 2^39 guesses a day. A base64 fragment match confirms a guess that is
 * right on all but ≤ 8 bits (the partial characters at either end), so a secret rated 64 bits
 * costs ≥ 2^55 guesses on average to confirm: centuries at that rate.
 *
 * Limits (documented in docs/security.md): the estimate knows character classes, repeats,
 * sequences, periodic values and lower-case `word_`/`word-` prefixes (`sk_live_`, `ghp_`,
 * `xoxb-`; not prefixes without a separator like `AKIA`, nor known suffixes); it does
 * not know dictionaries, so a passphrase of common words or a human password with substitutions
 * is rated higher than its real strength. Use generated values for anything a tool needs.
 */

export const STRONG_BITS = 64;

/**
 * Vault name prefixes of the daemon's own credentials: it uses them itself and never gives them
 * to a tool (a connector header, a remote server's environment), whatever their strength.
 */
export const DAEMON_ONLY_PREFIXES = {
  /** Token PINs (PKCS#11, TPM): opened by the daemon and the payment-helper. */
  'pkcs11.pin.': 'a token PIN',
  /** Payment credentials (the LND macaroon of `payments.l402`): only the payment step sends them. */
  'payments.': 'a payment credential',
} as const;

/** What a daemon-only name is ("a token PIN"), or undefined when a tool may reference it. */
export function daemonOnly(name: string): string | undefined {
  for (const [prefix, what] of Object.entries(DAEMON_ONLY_PREFIXES)) if (name.startsWith(prefix)) return what;
  return undefined;
}

export interface Strength {
  /** Estimated bits of guessing work (floor). */
  bits: number;
  strong: boolean;
}

/** Up to three leading `word_` / `word-` segments (provider prefixes) count as known. */
const PREFIX = /^[a-z]{1,12}[_-]/;
const MAX_PREFIX_SEGMENTS = 3;

export function estimateStrength(value: string): Strength {
  let core = value;
  for (let n = 0; n < MAX_PREFIX_SEGMENTS; n++) {
    const m = PREFIX.exec(core);
    if (!m || m[0].length >= core.length) break;
    core = core.slice(m[0].length);
  }
  const bits = Math.floor(periodicBits(Array.from(core)));
  return { bits, strong: bits >= STRONG_BITS };
}

/** A value that is one block repeated is worth the block plus how many times it repeats. */
function periodicBits(chars: string[]): number {
  for (let p = 1; p <= chars.length / 2; p++) {
    if (chars.length % p !== 0) continue;
    let periodic = true;
    for (let i = p; i < chars.length && periodic; i++) periodic = chars[i] === chars[i - p];
    if (periodic) return sequenceBits(chars.slice(0, p), pool(chars)) + Math.log2(chars.length / p);
  }
  return sequenceBits(chars, pool(chars));
}

/** Separators in formatted values (UUIDs, grouped keys) sit in known places. */
const SEPARATOR = /^[-_.: ]$/;

function sequenceBits(chars: string[], poolSize: number): number {
  const perChar = Math.log2(poolSize);
  let bits = 0;
  const code = (i: number) => (i >= 0 ? chars[i]!.codePointAt(0)! : Number.NaN);
  for (let i = 0; i < chars.length; i++) {
    if (SEPARATOR.test(chars[i]!)) {
      bits += 1;
      continue;
    }
    // A third character that continues a repeat or a ±1 step (aaa, 123, cba) is nearly free to
    // guess; a random value has such runs rarely, so it keeps nearly its full estimate.
    const step = code(i) - code(i - 1);
    const run = Math.abs(step) <= 1 && step === code(i - 1) - code(i - 2);
    bits += run ? 1 : perChar;
  }
  return bits;
}

/** The alphabet an attacker would search, from the character classes present. */
function pool(all: string[]): number {
  const chars = all.filter((c) => !SEPARATOR.test(c));
  const digitsOnly = chars.every((c) => c >= '0' && c <= '9');
  if (!digitsOnly && chars.every((c) => /^[0-9a-f]$/.test(c))) return 16;
  if (!digitsOnly && chars.every((c) => /^[0-9A-F]$/.test(c))) return 16;
  let size = 0;
  if (chars.some((c) => c >= '0' && c <= '9')) size += 10;
  if (chars.some((c) => c >= 'a' && c <= 'z')) size += 26;
  if (chars.some((c) => c >= 'A' && c <= 'Z')) size += 26;
  if (chars.some((c) => c.length === 1 && c >= ' ' && c <= '~' && !/[0-9A-Za-z]/.test(c))) size += 33;
  if (chars.some((c) => c > '~' || c < ' ')) size += 64;
  return Math.max(size, 2);
}
