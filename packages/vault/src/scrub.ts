import { estimateStrength } from './strength.ts';
import { base64Fragments, escapeRegExp, secretVariants, variantSource, type Token } from './encodings.ts';

/**
 * Removes strong secret values, in every encoding an upstream might echo them back in (see
 * encodings.ts), from what leaves the daemon (DESIGN.md §2 step 10) and from log lines.
 *
 * Only strong secrets (strength.ts) are scrubbed: where "[redacted]" appears tells whoever chose
 * the input whether it contained the secret, so scrubbing a guessable value would hand the agent
 * a guessing oracle. Weak values are instead never given to a tool (Vault.forTool).
 */
export const REDACTION = '[redacted]';

/**
 * Every encoding other than the literal value, its base64 and its hex has a backslash, a `%` or
 * a `+` in it. Text without them (most prose and much JSON) is searched with plain literal
 * patterns, which the regex engine skips through far faster than the full per-character one.
 */
const ESCAPES = /[\\%+]/;

interface Patterns {
  full: RegExp;
  literal: RegExp;
  hex: RegExp;
}

export class Scrubber {
  #pattern: Patterns | null = null;
  #values = new Set<string>();
  #scrubbed = 0;

  constructor(values: Iterable<string> = []) {
    this.setValues(values);
  }

  /** Also scrub `value` from now on (an access token that lives outside the vault). */
  add(value: string): void {
    if (this.#values.has(value)) return;
    this.setValues([...this.#values, value]);
  }

  setValues(values: Iterable<string>): void {
    this.#values = new Set(values);
    const strong = [...this.#values].filter((v) => estimateStrength(v).strong);
    this.#scrubbed = strong.length;
    if (strong.length === 0) {
      this.#pattern = null;
      return;
    }
    // Longest first: where one secret contains another, the whole of the longer one goes.
    const sorted = strong.sort((a, b) => b.length - a.length);
    const literals = sorted.flatMap((v) => {
      const fragments = base64Fragments(Buffer.from(v, 'utf8'));
      return [v, ...fragments, ...fragments.map((f) => f.replace(/\+/g, '-').replace(/\//g, '_'))];
    });
    this.#pattern = {
      full: new RegExp(mergedSource(sorted.flatMap(secretVariants)), 'g'),
      literal: new RegExp(literals.map(escapeRegExp).join('|'), 'g'),
      hex: new RegExp(sorted.map((v) => Buffer.from(v, 'utf8').toString('hex')).join('|'), 'gi'),
    };
  }

  /** How many values are scrubbed (the strong ones). */
  get size(): number {
    return this.#scrubbed;
  }

  scrub(text: string): string {
    const p = this.#pattern;
    if (!p) return text;
    if (ESCAPES.test(text)) return text.replace(p.full, REDACTION);
    return text.replace(p.literal, REDACTION).replace(p.hex, REDACTION);
  }

  /** True when `text` still contains a scrubbed secret in any known encoding. */
  contains(text: string): boolean {
    const p = this.#pattern;
    if (!p) return false;
    const patterns = ESCAPES.test(text) ? [p.full] : [p.literal, p.hex];
    return patterns.some((re) => {
      re.lastIndex = 0;
      const found = re.test(text);
      re.lastIndex = 0;
      return found;
    });
  }

  /**
   * A JSON-shaped value with every string, object key and number scrubbed; the structure is
   * kept, so the result always serialises. A value nested too deeply to walk throws RangeError,
   * which callers treat as "withhold".
   */
  scrubValue<T>(value: T): T {
    if (!this.#pattern) return value;
    return this.#walk(value) as T;
  }

  #walk(value: unknown): unknown {
    if (typeof value === 'string') return this.scrub(value);
    if (typeof value === 'number') return this.contains(String(value)) ? REDACTION : value;
    if (Array.isArray(value)) return value.map((v) => this.#walk(v));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        // defineProperty: a key "__proto__" stays a plain key, as JSON.parse made it.
        Object.defineProperty(out, this.scrub(k), {
          value: this.#walk(v),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    return value;
  }
}

/**
 * One alternation of every variant, merged under its first character: `a(?:…|…)|b(?:…)|\\(?:…)`.
 * Each position of a text is then rejected by one comparison against a few first characters
 * instead of one per secret and encoding. Order within a first character is kept (longest
 * secret first); different first characters cannot match at the same position.
 */
function mergedSource(variants: Token[][]): string {
  const byFirst = new Map<string, Set<string>>();
  const other: string[] = [];
  for (const tokens of variants) {
    const rest = variantSource(tokens.slice(1));
    for (const alternative of tokens[0] ?? []) {
      if (alternative.first === null) {
        other.push(alternative.source + rest);
        continue;
      }
      const rests = byFirst.get(alternative.first) ?? new Set<string>();
      rests.add(alternative.rest + rest);
      byFirst.set(alternative.first, rests);
    }
  }
  const merged = [...byFirst].map(([first, rests]) => `${escapeRegExp(first)}(?:${[...rests].join('|')})`);
  return [...merged, ...other].join('|');
}
