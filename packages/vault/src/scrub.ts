/**
 * Removes secret values, and the common encodings an upstream might echo them back in, from
 * text leaving the daemon (DESIGN.md §2 step 10) and from log lines. Base64 is matched at all
 * three byte alignments, so a secret inside a larger encoded string ("user:secret" in Basic
 * auth) is found too.
 */
export const REDACTION = '[redacted]';

/** Shorter values are too likely to collide with ordinary text to scrub by value. */
const MIN_SECRET_LENGTH = 4;
const MIN_FRAGMENT_LENGTH = 8;

export function secretVariants(value: string): string[] {
  if (value.length < MIN_SECRET_LENGTH) return [];
  const bytes = Buffer.from(value, 'utf8');
  const variants = new Set<string>([
    value,
    encodeURIComponent(value),
    encodeURIComponent(value).replace(/%20/g, '+'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    JSON.stringify(value).slice(1, -1),
  ]);
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    // Characters whose 6 bits all come from the secret's own bytes.
    const start = Math.ceil((8 * shift) / 6);
    const end = Math.floor((8 * (shift + bytes.length)) / 6);
    const fragment = encoded.slice(start, end);
    if (fragment.length >= MIN_FRAGMENT_LENGTH) {
      variants.add(fragment);
      variants.add(fragment.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return [...variants].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

export class Scrubber {
  #pattern: RegExp | null = null;
  #values = new Set<string>();

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
    const all = new Set<string>();
    for (const v of this.#values) for (const variant of secretVariants(v)) all.add(variant);
    if (all.size === 0) {
      this.#pattern = null;
      return;
    }
    const alternatives = [...all].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.#pattern = new RegExp(alternatives.join('|'), 'g');
  }

  scrub(text: string): string {
    return this.#pattern ? text.replace(this.#pattern, REDACTION) : text;
  }

  /** True when `text` still contains a known secret or encoding (used by tests and the firewall). */
  contains(text: string): boolean {
    if (!this.#pattern) return false;
    this.#pattern.lastIndex = 0;
    const found = this.#pattern.test(text);
    this.#pattern.lastIndex = 0;
    return found;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
