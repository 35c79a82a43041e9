import { inspect } from 'node:util';

/** A value that refuses to print itself (the vault's `Secret` fits this shape). */
export interface SecretValue {
  expose(): string;
}

/** Holds a preimage or an L402 token: never printed, serialised or logged. */
export class Redacted implements SecretValue {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  expose(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return 'Redacted([redacted])';
  }
}
