import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, jwkThumbprint, toBase64Url, type PublicJwk } from '@briefcase/crypto';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { open, seal, writeFileAtomic, type Sealed } from '@briefcase/vault';
import { keyFilePath, type Pkcs11Location } from './key-store.ts';
import { Pkcs11Signer } from './pkcs11-signer.ts';
import type { KeyBackend } from './signer.ts';

/**
 * The `payment` key role: the secp256k1 wallet key that signs EIP-3009 transfers (x402). It is
 * opened only by the payment-helper process, never by the daemon. Software keys are sealed under
 * the vault master key like the other roles; PKCS#11 keys are made on the token (SoftHSM offers
 * secp256k1; TPMs do not). Unlike the JOSE roles it is never rotated in place: funds sit at its
 * address, so replacing it would strand them.
 */
export interface PaymentKeyFile {
  v: 1;
  role: 'payment';
  algorithm: 'ES256K';
  backend: KeyBackend;
  /** The EVM address (lowercase 0x…): what a person funds. */
  address: string;
  /** Uncompressed public point 04 ‖ X ‖ Y, hex. */
  public_key: string;
  key_id: string;
  created_at: string;
  /** Software keys: the 32-byte secret scalar, sealed under the vault master key. */
  sealed_private?: Sealed;
  pkcs11?: Pkcs11Location;
}

/** A signer over 32-byte digests whose signatures are low-S and carry their recovery id. */
export interface PaymentSigner {
  readonly backend: KeyBackend;
  readonly nonExportable: boolean;
  readonly address: string;
  readonly publicKey: Uint8Array;
  /** r ‖ s ‖ recovery (65 bytes), s ≤ n/2 (what Ethereum accepts). */
  signDigest(digest: Uint8Array): Promise<Uint8Array>;
  close(): void;
}

const AAD = 'briefcase.key.v1:payment';
const N = secp256k1.Point.CURVE().n;

export function paymentKeyPath(dataDir: string): string {
  return keyFilePath(dataDir, 'payment');
}

/** The payment key's public file, or null when none was made. Never the key. */
export function readPaymentKey(dataDir: string): PaymentKeyFile | null {
  const path = paymentKeyPath(dataDir);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PaymentKeyFile;
  } catch (e) {
    throw new BriefcaseError('invalid_config', `${path}: cannot read the payment key file`, String(e));
  }
}

export type PaymentKeySpec =
  | { backend: 'software'; masterKey: Uint8Array }
  | { backend: 'pkcs11'; location: Pkcs11Location; pin: string | undefined };

/** `briefcase keys create --role payment`: refuses to replace a payment key (funds sit there). */
export function createPaymentKey(dataDir: string, spec: PaymentKeySpec): PaymentKeyFile {
  const existing = readPaymentKey(dataDir);
  if (existing) {
    throw new BriefcaseError(
      'conflict',
      `a payment key exists (${existing.address}); funds sit at its address, so it is not replaced. Move them out first, then remove ${paymentKeyPath(dataDir)}`,
    );
  }
  let publicKey: Uint8Array;
  let extra: Pick<PaymentKeyFile, 'sealed_private' | 'pkcs11'>;
  if (spec.backend === 'software') {
    const secret = secp256k1.utils.randomSecretKey();
    publicKey = secp256k1.getPublicKey(secret, false);
    extra = { sealed_private: seal(spec.masterKey, secret, AAD) };
    secret.fill(0);
  } else {
    const signer = Pkcs11Signer.open('payment', spec.location, spec.pin, true, 'secp256k1');
    publicKey = signer.point;
    signer.close();
    extra = { pkcs11: spec.location };
  }
  const file: PaymentKeyFile = {
    v: 1,
    role: 'payment',
    algorithm: 'ES256K',
    backend: spec.backend,
    address: evmAddress(publicKey),
    public_key: bytesToHex(publicKey),
    key_id: keyIdOf(publicKey),
    created_at: new Date().toISOString(),
    ...extra,
  };
  mkdirSync(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
  writeFileAtomic(paymentKeyPath(dataDir), `${JSON.stringify(file, null, 2)}\n`);
  return file;
}

/**
 * Open the payment key to sign (the payment-helper process calls this). A software key's sealed
 * scalar may come from elsewhere (`legacy`: the pre-role `payments/evm-wallet.json`).
 */
export function openPaymentSigner(
  dataDir: string,
  masterKey: Uint8Array | undefined,
  pin: string | undefined,
  legacy?: { sealed: Sealed; aad: string },
): PaymentSigner {
  const file = readPaymentKey(dataDir);
  if (!file && legacy) return softwareSigner(openSealed(masterKey, legacy.sealed, legacy.aad));
  if (!file) throw new BriefcaseError('not_found', 'no payment key: `briefcase keys create --role payment`');
  if (file.backend === 'pkcs11' && file.pkcs11) {
    const token = Pkcs11Signer.open('payment', file.pkcs11, pin, false, 'secp256k1');
    if (bytesToHex(token.point) !== file.public_key) {
      token.close();
      throw new BriefcaseError('conflict', `the key "${file.pkcs11.key_label}" on the token is not the payment key`);
    }
    return {
      backend: 'pkcs11',
      nonExportable: true,
      address: file.address,
      publicKey: token.point,
      signDigest: async (digest) => recoverable(await token.signDigest(digest), digest, token.point),
      close: () => token.close(),
    };
  }
  if (!file.sealed_private) throw new BriefcaseError('invalid_config', 'the payment key file holds no key');
  return softwareSigner(openSealed(masterKey, file.sealed_private, AAD));
}

function openSealed(masterKey: Uint8Array | undefined, sealed: Sealed, aad: string): Uint8Array {
  if (!masterKey) throw new BriefcaseError('vault_locked', 'the payment key needs the vault master key');
  try {
    return new Uint8Array(open(masterKey, sealed, aad));
  } catch {
    throw new BriefcaseError('vault_locked', 'the payment key does not open with this master key');
  }
}

function softwareSigner(secret: Uint8Array): PaymentSigner {
  const publicKey = secp256k1.getPublicKey(secret, false);
  return {
    backend: 'software',
    nonExportable: false,
    address: evmAddress(publicKey),
    publicKey,
    async signDigest(digest) {
      const sig = secp256k1.sign(digest, secret, { prehash: false, lowS: true, format: 'recovered' });
      // noble puts the recovery byte first; this interface puts it last.
      return recoverable(sig.subarray(1), digest, publicKey);
    },
    close: () => secret.fill(0),
  };
}

/**
 * A raw r‖s (any S, as tokens return it) made low-S (s ↦ n − s flips the recovery parity too),
 * with the recovery id found by recovering both candidates against the known public key.
 */
export function recoverable(rs: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): Uint8Array {
  if (rs.length !== 64 || digest.length !== 32) throw new BriefcaseError('internal', 'bad signature or digest size');
  const r = rs.slice(0, 32);
  let s = BigInt(`0x${bytesToHex(rs.slice(32))}`);
  if (s > N / 2n) s = N - s;
  const compact = new Uint8Array(64);
  compact.set(r, 0);
  compact.set(hexBytes(s.toString(16).padStart(64, '0')), 32);
  const want = bytesToHex(secp256k1.Point.fromBytes(publicKey).toBytes(true));
  for (const recovery of [0, 1]) {
    const candidate = new Uint8Array(65);
    candidate[0] = recovery;
    candidate.set(compact, 1);
    try {
      if (bytesToHex(secp256k1.recoverPublicKey(candidate, digest, { prehash: false })) === want) {
        const out = new Uint8Array(65);
        out.set(compact, 0);
        out[64] = recovery;
        return out;
      }
    } catch {
      // not this recovery id
    }
  }
  throw new BriefcaseError('internal', 'the signature does not recover to the payment key');
}

/** The EVM address of a secp256k1 public key: the last 20 bytes of Keccak-256(X ‖ Y). */
export function evmAddress(publicKey: Uint8Array): string {
  const point = secp256k1.Point.fromBytes(publicKey).toBytes(false);
  return `0x${bytesToHex(keccak_256(point.subarray(1)).subarray(12))}`;
}

function keyIdOf(publicKey: Uint8Array): string {
  const jwk = {
    kty: 'EC',
    crv: 'secp256k1',
    x: toBase64Url(publicKey.subarray(1, 33)),
    y: toBase64Url(publicKey.subarray(33)),
  };
  return jwkThumbprint(jwk as unknown as PublicJwk);
}

function hexBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
