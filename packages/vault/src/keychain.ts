import type { AsyncEntry, EntryOptions } from '@napi-rs/keyring';

/**
 * The OS keychain, through @napi-rs/keyring: Keychain on macOS, Credential Manager on Windows,
 * the Secret Service (gnome-keyring, KWallet, KeePassXC) on Linux. On Linux we require the Secret
 * Service: the binding's other Linux store, the kernel keyring, forgets everything at reboot, and
 * a vault master key that vanishes at reboot loses the vault.
 */
export interface Keychain {
  get(account: string): Promise<string | null>;
  set(account: string, value: string): Promise<void>;
  remove(account: string): Promise<boolean>;
}

export const KEYCHAIN_SERVICE = 'briefcase';

/** A locked keyring may wait for a person to type a password; we do not wait forever. */
const TIMEOUT_MS = 10_000;

const OPTIONS: EntryOptions = { linux: { store: 'secret-service' } };

export type KeychainProbe = { available: true; keychain: Keychain } | { available: false; reason: string };

/** Is there a keychain here that answers? Never throws: an absent keychain is a normal answer. */
export async function openKeychain(service = KEYCHAIN_SERVICE): Promise<KeychainProbe> {
  if (process.platform === 'linux' && !process.env.DBUS_SESSION_BUS_ADDRESS) {
    return {
      available: false,
      reason: 'no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service',
    };
  }
  let binding: typeof import('@napi-rs/keyring');
  try {
    // Loaded on demand: a platform without a prebuilt binding has no keychain, and the rest of
    // the Briefcase still works.
    binding = await import('@napi-rs/keyring');
  } catch (e) {
    return { available: false, reason: `the keychain binding (@napi-rs/keyring) does not load here: ${firstLine(e)}` };
  }
  const keychain = new OsKeychain(service, binding.AsyncEntry);
  try {
    await keychain.get('probe');
    return { available: true, keychain };
  } catch (e) {
    return { available: false, reason: firstLine(e) };
  }
}

class OsKeychain implements Keychain {
  readonly #service: string;
  readonly #Entry: typeof AsyncEntry;

  constructor(service: string, Entry: typeof AsyncEntry) {
    this.#service = service;
    this.#Entry = Entry;
  }

  get(account: string): Promise<string | null> {
    return this.#entry(account, (e, signal) => e.getPassword(signal));
  }

  set(account: string, value: string): Promise<void> {
    return this.#entry(account, (e, signal) => e.setPassword(value, signal));
  }

  remove(account: string): Promise<boolean> {
    return this.#entry(account, (e, signal) => e.deleteCredential(signal));
  }

  async #entry<T>(account: string, op: (entry: AsyncEntry, signal: AbortSignal) => Promise<T>): Promise<T> {
    const entry = new this.#Entry(this.#service, account, OPTIONS);
    const signal = AbortSignal.timeout(TIMEOUT_MS);
    try {
      return await op(entry, signal);
    } catch (e) {
      if (signal.aborted) {
        throw new Error(`the OS keychain did not answer within ${TIMEOUT_MS / 1000} s (is it locked?)`, { cause: e });
      }
      throw e;
    }
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 300);
}
