import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BriefcaseError } from '@briefcase/protocol';
import { seal, writeFileAtomic } from '@briefcase/vault';

const AAD = 'briefcase:payment-wallet:evm:v1';

interface WalletFile {
  v: 1;
  address: string;
  sealed: { nonce: string; ct: string; tag: string };
  created_at: string;
}

export function walletPath(home: string): string {
  return join(home, 'payments', 'evm-wallet.json');
}

/** The payment wallet's address, or null when none was created. Never the key. */
export function walletAddress(home: string): string | null {
  const path = walletPath(home);
  if (!existsSync(path)) return null;
  return (JSON.parse(readFileSync(path, 'utf8')) as WalletFile).address;
}

/**
 * Create the EVM payment wallet (secp256k1), sealed under the vault master key like the
 * software keys: it never leaves the daemon's data dir in the clear. Refuses to overwrite.
 */
export async function createWallet(home: string, masterKey: Uint8Array): Promise<string> {
  // viem on first use only: it is ~10 MiB of the daemon's memory otherwise (issue 13).
  const { generatePrivateKey, privateKeyToAccount } = await import('viem/accounts');
  const path = walletPath(home);
  if (existsSync(path)) throw new BriefcaseError('conflict', `a payment wallet exists (${walletAddress(home)})`);
  const key = generatePrivateKey();
  const address = privateKeyToAccount(key).address.toLowerCase();
  mkdirSync(join(home, 'payments'), { recursive: true, mode: 0o700 });
  const file: WalletFile = {
    v: 1,
    address,
    sealed: seal(masterKey, Buffer.from(key.slice(2), 'hex'), `${AAD}:${address}`),
    created_at: new Date().toISOString(),
  };
  writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
  return address;
}

/** The sealed wallet as the payment-helper needs it (it unseals the key itself). */
export function sealedWallet(home: string): { address: string; sealed: WalletFile['sealed']; aad: string } | null {
  const path = walletPath(home);
  if (!existsSync(path)) return null;
  const file = JSON.parse(readFileSync(path, 'utf8')) as WalletFile;
  return { address: file.address, sealed: file.sealed, aad: `${AAD}:${file.address}` };
}
