import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A secret value that refuses to print or serialise itself. The only way to the plaintext is
 * `expose()`, which is called at egress (a header leaving the daemon) and nowhere else.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  expose(): string {
    return this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}
