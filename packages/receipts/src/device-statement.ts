import { jwkThumbprint, signCompactJws, verifyCompactJws, type JwsSigner, type PublicJwk } from '@briefcase/crypto';

/**
 * A device statement: the Briefcase's identity key vouches for every receipts key it has used,
 * each with the interval it was valid in. Someone who knows the device's ID (the identity key's
 * thumbprint) can then verify any export from that device across rotations, without being given
 * the receipts keys themselves, and a checkpoint made with a key outside its interval (a retired
 * key used later) is refused.
 */
export const DEVICE_STATEMENT_TYP = 'briefcase-device-keys+jws';

export interface EndorsedKey {
  key_id: string;
  jwk: PublicJwk;
  /** ISO 8601: the key's creation. */
  not_before: string;
  /** ISO 8601: its retirement; null while it is the current key. */
  not_after: string | null;
}

export interface DeviceStatement {
  v: 1;
  device_id: string;
  iat: string;
  receipts_keys: EndorsedKey[];
}

export function signDeviceStatement(identity: JwsSigner, receiptsKeys: EndorsedKey[]): Promise<string> {
  const statement: DeviceStatement = {
    v: 1,
    device_id: jwkThumbprint(identity.publicJwk),
    iat: new Date().toISOString(),
    receipts_keys: receiptsKeys,
  };
  return signCompactJws(identity, DEVICE_STATEMENT_TYP, statement);
}

/** The statement, if it is well-formed and signed by the device `deviceId` names. */
export function readDeviceStatement(
  jws: unknown,
  deviceId: string,
): { ok: true; statement: DeviceStatement } | { ok: false; reason: string } {
  if (typeof jws !== 'string') return { ok: false, reason: 'the export carries no device statement' };
  const verified = verifyCompactJws(jws, DEVICE_STATEMENT_TYP);
  if (!verified) return { ok: false, reason: 'the device statement is malformed or its signature is invalid' };
  const thumbprint = jwkThumbprint(verified.jwk);
  if (thumbprint !== deviceId) {
    return { ok: false, reason: `the device statement is signed by device ${thumbprint}, not ${deviceId}` };
  }
  const s = verified.payload as Partial<DeviceStatement>;
  if (s.v !== 1 || s.device_id !== deviceId || !Array.isArray(s.receipts_keys)) {
    return { ok: false, reason: 'the device statement does not name this device or lists no keys' };
  }
  return { ok: true, statement: s as DeviceStatement };
}

/**
 * Whether a checkpoint time falls in the interval the device vouched for. A statement speaks only
 * up to its own time: a current key (`not_after: null`) is vouched for until `iat`, so an old
 * statement cannot cover checkpoints made after it (by a key retired since, say).
 */
export function withinInterval(key: EndorsedKey, ts: string, statementIat: string): boolean {
  return ts >= key.not_before && ts <= (key.not_after ?? statementIat) && ts <= statementIat;
}
