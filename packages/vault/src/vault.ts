import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { writeFileAtomic } from './files.ts';
import { open, seal, type Sealed } from './seal.ts';
import { Secret } from './secret.ts';
import { DAEMON_ONLY_PREFIXES, daemonOnly, estimateStrength, STRONG_BITS } from './strength.ts';

export const VAULT_FILE = 'vault.json';
const SECRET_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

interface StoredSecret {
  sealed: Sealed;
  description: string | null;
  created_at: string;
  updated_at: string;
  length: number;
  /** Estimated guessing work at set time (strength.ts); recomputed at open when absent. */
  strength_bits?: number;
}

interface VaultFile {
  v: 1;
  secrets: Record<string, StoredSecret>;
}

export interface SecretInfo {
  name: string;
  description: string | null;
  created_at: string;
  updated_at: string;
  length: number;
  strength_bits: number;
  /** Below STRONG_BITS: the daemon may use it, but no tool gets it and the firewall cannot hide it. */
  weak: boolean;
  /** Whether a connector header or a remote server's environment may reference it. */
  injectable: boolean;
}

/**
 * Secrets by name, each sealed with AES-256-GCM under the master key with the name as AAD, so a
 * ciphertext moved to another name does not open. The file is replaced atomically on each change.
 */
export class Vault {
  readonly #path: string;
  readonly #key: Uint8Array;
  #file: VaultFile;

  private constructor(path: string, key: Uint8Array, file: VaultFile) {
    this.#path = path;
    this.#key = key;
    this.#file = file;
  }

  static open(dataDir: string, masterKey: Uint8Array): Vault {
    const path = join(dataDir, VAULT_FILE);
    const file: VaultFile = existsSync(path)
      ? (JSON.parse(readFileSync(path, 'utf8')) as VaultFile)
      : { v: 1, secrets: {} };
    const vault = new Vault(path, masterKey, file);
    // Fail at start-up, not at first use, if the master key does not open this vault. Secrets
    // stored before strengths were recorded get theirs now (kept in memory, written on change).
    for (const [name, stored] of Object.entries(file.secrets)) {
      const value = vault.get(name)!;
      stored.strength_bits ??= estimateStrength(value.expose()).bits;
    }
    return vault;
  }

  static validName(name: string): boolean {
    return SECRET_NAME.test(name);
  }

  set(name: string, value: Secret, description?: string): SecretInfo {
    if (!Vault.validName(name)) {
      throw new BriefcaseError('bad_request', 'secret names use 1-64 characters of A-Z a-z 0-9 _ - .');
    }
    const now = new Date().toISOString();
    const previous = this.#file.secrets[name];
    const stored: StoredSecret = {
      sealed: seal(this.#key, Buffer.from(value.expose(), 'utf8'), aad(name)),
      description: description ?? previous?.description ?? null,
      created_at: previous?.created_at ?? now,
      updated_at: now,
      length: value.length,
      strength_bits: estimateStrength(value.expose()).bits,
    };
    const next: VaultFile = { v: 1, secrets: { ...this.#file.secrets, [name]: stored } };
    writeFileAtomic(this.#path, `${JSON.stringify(next, null, 2)}\n`);
    this.#file = next;
    return info(name, stored);
  }

  get(name: string): Secret | undefined {
    const stored = this.#file.secrets[name];
    if (!stored) return undefined;
    try {
      return new Secret(open(this.#key, stored.sealed, aad(name)).toString('utf8'));
    } catch {
      throw new BriefcaseError('vault_locked', `secret "${name}" does not open with this master key`);
    }
  }

  /**
   * A secret for a tool to send out (a connector header, a remote server's environment). A weak
   * value is refused: the firewall does not scrub it (scrubbing a guessable value is a guessing
   * oracle), so a tool that reflected it would show it to the agent. Token PINs and payment
   * credentials (DAEMON_ONLY_PREFIXES) are the daemon's own and never leave it, whatever their strength.
   */
  forTool(name: string, who: string): Secret | undefined {
    const stored = this.#file.secrets[name];
    if (!stored) return undefined;
    const own = daemonOnly(name);
    if (own) {
      throw new BriefcaseError(
        'unavailable',
        `${who} references the secret "${name}", ${own}: the Briefcase uses it itself and never gives it to a tool. ` +
          `Remove the reference from ${who}; a secret a tool must send needs a name outside ${Object.keys(DAEMON_ONLY_PREFIXES).join(', ')}`,
      );
    }
    const bits = stored.strength_bits ?? 0;
    if (bits < STRONG_BITS) {
      throw new BriefcaseError(
        'unavailable',
        `${who} references the secret "${name}", which is too guessable to give to a tool (about ${bits} bits; tools need ${STRONG_BITS}): ` +
          `the agent could confirm guesses of it through the output firewall. Store a long random value (e.g. \`openssl rand -base64 32\`) with \`briefcase secrets set ${name}\`, or use a credential the provider generated`,
      );
    }
    return this.get(name);
  }

  has(name: string): boolean {
    return name in this.#file.secrets;
  }

  remove(name: string): boolean {
    if (!this.has(name)) return false;
    const { [name]: _removed, ...rest } = this.#file.secrets;
    const next: VaultFile = { v: 1, secrets: rest };
    writeFileAtomic(this.#path, `${JSON.stringify(next, null, 2)}\n`);
    this.#file = next;
    return true;
  }

  list(): SecretInfo[] {
    return Object.entries(this.#file.secrets)
      .map(([name, stored]) => info(name, stored))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Every secret's plaintext, for the output firewall and log scrubber only. */
  allValues(): string[] {
    return Object.keys(this.#file.secrets).map((name) => this.get(name)?.expose() ?? '');
  }
}

function aad(name: string): string {
  return `briefcase.vault.v1:${name}`;
}

function info(name: string, stored: StoredSecret): SecretInfo {
  return {
    name,
    description: stored.description,
    created_at: stored.created_at,
    updated_at: stored.updated_at,
    length: stored.length,
    strength_bits: stored.strength_bits ?? 0,
    weak: (stored.strength_bits ?? 0) < STRONG_BITS,
    injectable: (stored.strength_bits ?? 0) >= STRONG_BITS && daemonOnly(name) === undefined,
  };
}
