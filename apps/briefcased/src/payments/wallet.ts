import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPaymentKey, readPaymentKey, type Pkcs11Location } from '@briefcase/keys';
import { BriefcaseError } from '@briefcase/protocol';

/**
 * The payment wallet is the `payment` key role (@briefcase/keys, keys/payment.json): software or
 * PKCS#11. Data dirs from before the role have `payments/evm-wallet.json` (a sealed secp256k1
 * key); it keeps working while no payment key exists, and `doctor`/`payments grants` name it.
 */
const LEGACY_AAD = 'briefcase:payment-wallet:evm:v1';

interface LegacyWalletFile {
  v: 1;
  address: string;
  sealed: { nonce: string; ct: string; tag: string };
  created_at: string;
}

export function legacyWalletPath(home: string): string {
  return join(home, 'payments', 'evm-wallet.json');
}

function readLegacy(home: string): LegacyWalletFile | null {
  const path = legacyWalletPath(home);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as LegacyWalletFile;
}

/** The payment wallet's address, or null when none was created. Never the key. */
export function walletAddress(home: string): string | null {
  return readPaymentKey(home)?.address ?? readLegacy(home)?.address ?? null;
}

/**
 * `payments wallet-create` (an alias of `keys create --role payment --backend software` that
 * works while the daemon runs): refuses when any wallet exists.
 */
export function createWallet(home: string, masterKey: Uint8Array): string {
  const existing = walletAddress(home);
  if (existing) throw new BriefcaseError('conflict', `a payment wallet exists (${existing})`);
  return createPaymentKey(home, { backend: 'software', masterKey }).address;
}

/** What the payment-helper needs to open the wallet (it opens the key itself), or null. */
export function walletForHelper(home: string): {
  address: string;
  pkcs11?: Pkcs11Location | undefined;
  legacy?: { sealed: LegacyWalletFile['sealed']; aad: string } | undefined;
} | null {
  const key = readPaymentKey(home);
  if (key) return { address: key.address, pkcs11: key.pkcs11 };
  const legacy = readLegacy(home);
  if (!legacy) return null;
  return { address: legacy.address, legacy: { sealed: legacy.sealed, aad: `${LEGACY_AAD}:${legacy.address}` } };
}
