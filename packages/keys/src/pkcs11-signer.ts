import { createRequire } from 'node:module';
import type * as graphene from 'graphene-pk11';
import { bytesToHex, jwkThumbprint, sha256, toBase64Url, utf8, type PublicJwk } from '@briefcase/crypto';
import { BriefcaseError } from '@briefcase/protocol/errors';
import type { Pkcs11Location } from './key-store.ts';
import type { StoredRole, Signer } from './signer.ts';

/**
 * graphene-pk11 (and its native addon pkcs11js) loads on first use: an installed package whose
 * addon could not be compiled still runs with software keys, and says so when a token is asked for.
 */
let lib: typeof graphene | undefined;
function pkcs11(): typeof graphene {
  if (!lib) {
    try {
      lib = createRequire(import.meta.url)('graphene-pk11') as typeof graphene;
    } catch (e) {
      throw new BriefcaseError(
        'unsupported_platform',
        `PKCS#11 support is not installed: graphene-pk11 could not be loaded (${(e as Error).message}). Reinstall Briefcase where a C++ compiler is available (its addon pkcs11js is built at install)`,
      );
    }
  }
  return lib;
}

export type { Pkcs11Location } from './key-store.ts';

/** The curves a token key can be made on: P-256 for JOSE roles, secp256k1 for the payment role. */
export type Pkcs11Curve = 'P-256' | 'secp256k1';
const CURVE_NAMES: Record<Pkcs11Curve, string> = { 'P-256': 'secp256r1', secp256k1: 'secp256k1' };

/**
 * A P-256 key that lives on a PKCS#11 token (HSM, smart card, YubiKey; SoftHSM in tests).
 * Generated on the token as sensitive and non-extractable, so its private value never leaves it:
 * the token signs a SHA-256 digest with CKM_ECDSA and returns r‖s, which is already the JOSE
 * (ES256) form. The caller brings the PIN (environment, vault or prompt), never a config file.
 */
export class Pkcs11Signer implements Signer {
  readonly role: StoredRole;
  readonly algorithm = 'ES256' as const;
  readonly backend = 'pkcs11' as const;
  readonly nonExportable = true;
  /** P-256 keys: their JWK. A secp256k1 key's has crv "secp256k1", outside the JOSE union. */
  readonly publicJwk: PublicJwk;
  readonly keyId: string;
  /** The uncompressed public point 04 ‖ X ‖ Y. */
  readonly point: Uint8Array;
  readonly curve: Pkcs11Curve;
  readonly location: Pkcs11Location;
  readonly #session: graphene.Session;
  readonly #privateKey: graphene.PrivateKey;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(
    role: StoredRole,
    location: Pkcs11Location,
    session: graphene.Session,
    privateKey: graphene.PrivateKey,
    point: Uint8Array,
    curve: Pkcs11Curve,
  ) {
    this.role = role;
    this.location = location;
    this.#session = session;
    this.#privateKey = privateKey;
    this.point = point;
    this.curve = curve;
    this.publicJwk = {
      kty: 'EC',
      crv: curve,
      x: toBase64Url(point.subarray(1, 33)),
      y: toBase64Url(point.subarray(33)),
    } as PublicJwk;
    this.keyId = jwkThumbprint(this.publicJwk);
  }

  /** Open the key pair labelled `key_label` on the token; with `create`, generate it first. */
  static open(
    role: StoredRole,
    location: Pkcs11Location,
    pin: string | undefined,
    create = false,
    curve: Pkcs11Curve = 'P-256',
  ): Pkcs11Signer {
    if (!pin) {
      throw new BriefcaseError(
        'vault_locked',
        `the PKCS#11 token "${location.token_label}" needs its PIN: set BRIEFCASE_PKCS11_PIN, store it in the vault as ${pinSecretName(location.token_label)}, or start in a terminal to be asked`,
      );
    }
    const mod = acquireModule(location.module);
    try {
      const slots = mod.getSlots(true);
      let slot: graphene.Slot | undefined;
      for (let i = 0; i < slots.length; i++) {
        const s = slots.items(i);
        if (s.getToken().label.trim() === location.token_label) slot = s;
      }
      if (!slot) throw new BriefcaseError('unavailable', `no PKCS#11 token labelled "${location.token_label}"`);
      const session = slot.open(pkcs11().SessionFlag.SERIAL_SESSION | pkcs11().SessionFlag.RW_SESSION);
      try {
        login(session, pin, location.token_label);
        return Pkcs11Signer.#keyPair(role, location, session, create, curve);
      } catch (e) {
        session.close();
        throw e;
      }
    } catch (e) {
      releaseModule(location.module);
      throw e;
    }
  }

  static #keyPair(
    role: StoredRole,
    location: Pkcs11Location,
    session: graphene.Session,
    create: boolean,
    curve: Pkcs11Curve,
  ): Pkcs11Signer {
    const found = session.find({ class: pkcs11().ObjectClass.PRIVATE_KEY, label: location.key_label });
    if (found.length === 0 && !create) {
      throw new BriefcaseError('unavailable', `no key labelled "${location.key_label}" on the token`);
    }
    if (found.length > 0 && create) {
      throw new BriefcaseError('conflict', `a key labelled "${location.key_label}" already exists on the token`);
    }
    if (create) {
      generateOn(session, location, curve);
    }
    const privateKey = session
      .find({ class: pkcs11().ObjectClass.PRIVATE_KEY, label: location.key_label })
      .items(0)
      .toType<graphene.PrivateKey>();
    const publicKey = session
      .find({ class: pkcs11().ObjectClass.PUBLIC_KEY, label: location.key_label })
      .items(0)
      .toType<graphene.PublicKey>();
    return new Pkcs11Signer(role, location, session, privateKey, pointOf(publicKey), curve);
  }

  /**
   * SoftHSM and most tokens offer CKM_ECDSA over a digest, not CKM_ECDSA_SHA256. The call runs
   * on the binding's worker thread: a TPM takes ~10 ms per signature, which must not block the
   * daemon's event loop (and with it every tool call in flight). A session runs one operation at
   * a time (a second C_SignInit is CKR_OPERATION_ACTIVE), so signatures queue here: DPoP proofs
   * for parallel requests arrive together.
   */
  sign(message: Uint8Array): Promise<Uint8Array> {
    return this.signDigest(sha256(message));
  }

  /** Raw r‖s over a 32-byte digest the caller computed (the payment role signs Keccak-256 digests). */
  signDigest(digest: Uint8Array): Promise<Uint8Array> {
    const next = this.#queue.then(
      () =>
        new Promise<Uint8Array>((resolve, reject) => {
          this.#session
            .createSign('ECDSA', this.#privateKey)
            .once(Buffer.from(digest), (error, signature) =>
              error ? reject(error) : resolve(new Uint8Array(signature)),
            );
        }),
    );
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Closing the session is enough: logging out would log out every other key on the token too. */
  close(): void {
    if (this.#closed) return; // twice would release a module other keys still use
    this.#closed = true;
    try {
      this.#session.close();
    } finally {
      releaseModule(this.location.module);
    }
  }
}

/**
 * The vault secret a token's PIN may be kept under. Labels may hold characters vault names may
 * not, and be long: such a label gets a hash suffix, so two tokens never share a name.
 */
export function pinSecretName(tokenLabel: string): string {
  const safe = tokenLabel.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (safe === tokenLabel && safe.length <= 40) return `pkcs11.pin.${safe}`;
  return `pkcs11.pin.${safe.slice(0, 32)}.${bytesToHex(sha256(utf8(tokenLabel))).slice(0, 12)}`;
}

/**
 * A module is initialised once per process however many keys use it (C_Initialize twice is an
 * error, and C_Finalize would pull the token from under the other keys), and finalised with the
 * last of them.
 */
const modules = new Map<string, { mod: graphene.Module; users: number }>();

function acquireModule(path: string): graphene.Module {
  const held = modules.get(path);
  if (held) {
    held.users++;
    return held.mod;
  }
  let mod: graphene.Module;
  try {
    mod = pkcs11().Module.load(path, 'briefcase');
    mod.initialize();
  } catch (e) {
    throw new BriefcaseError('unavailable', `cannot load the PKCS#11 module ${path}`, String(e));
  }
  modules.set(path, { mod, users: 1 });
  return mod;
}

function releaseModule(path: string): void {
  const held = modules.get(path);
  if (!held || --held.users > 0) return;
  modules.delete(path);
  held.mod.finalize();
}

/** Logging in is per token, not per session: a second key on the same token finds it done. */
function login(session: graphene.Session, pin: string, tokenLabel: string): void {
  try {
    session.login(pin);
  } catch (e) {
    const code = /CKR_[A-Z_]+/.exec(String(e))?.[0] ?? 'unknown error';
    if (code === 'CKR_USER_ALREADY_LOGGED_IN') return;
    if (code === 'CKR_PIN_INCORRECT') {
      throw new BriefcaseError(
        'vault_locked',
        `the PIN does not open the token "${tokenLabel}" (each wrong try counts towards locking it)`,
      );
    }
    if (code === 'CKR_PIN_LOCKED') {
      throw new BriefcaseError(
        'vault_locked',
        `the token "${tokenLabel}" has locked its PIN: unlock it with its SO PIN`,
      );
    }
    throw new BriefcaseError('unavailable', `cannot log in to the token "${tokenLabel}": ${code}`);
  }
}

/** CKA_EC_POINT is a DER OCTET STRING around the uncompressed point 04 ‖ X ‖ Y. */
function pointOf(key: graphene.PublicKey): Uint8Array {
  const der = key.getAttribute({ pointEC: null }).pointEC as Buffer;
  const point = der[0] === 0x04 && der.length === 67 ? der.subarray(2) : der;
  if (point.length !== 65 || point[0] !== 0x04) {
    throw new BriefcaseError('internal', 'unexpected EC point encoding from the token');
  }
  return new Uint8Array(point);
}

/** A sensitive, non-extractable EC key pair on the token (CKM_EC_KEY_PAIR_GEN). */
function generateOn(session: graphene.Session, location: Pkcs11Location, curve: Pkcs11Curve): void {
  let paramsEC: Buffer;
  try {
    paramsEC = pkcs11().NamedCurve.getByName(CURVE_NAMES[curve]).value;
  } catch {
    throw new BriefcaseError('unsupported_platform', `the PKCS#11 binding does not know the curve ${curve}`);
  }
  try {
    session.generateKeyPair(
      pkcs11().KeyGenMechanism.EC,
      { keyType: pkcs11().KeyType.EC, token: true, verify: true, label: location.key_label, paramsEC },
      {
        keyType: pkcs11().KeyType.EC,
        token: true,
        sign: true,
        private: true,
        sensitive: true,
        extractable: false,
        label: location.key_label,
      },
    );
  } catch (e) {
    const code = /CKR_[A-Z_]+/.exec(String(e))?.[0] ?? String(e);
    throw new BriefcaseError(
      'unsupported_platform',
      `the token "${location.token_label}" cannot make a ${curve} key (${code})${curve === 'secp256k1' ? '; TPMs do not offer secp256k1: use SoftHSM, an HSM that does, or --backend software' : ''}`,
    );
  }
}
