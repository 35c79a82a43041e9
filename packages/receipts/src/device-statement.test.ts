import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { jwkThumbprint, type Ed25519PublicJwk, type JwsSigner } from '@briefcase/crypto';
import { signDeviceStatement, type EndorsedKey } from './device-statement.ts';
import { headerHash, type ExportHeader } from './export-format.ts';
import { ReceiptLog, type CheckpointSigner } from './node/index.ts';
import { verifyExport } from './verify.ts';

function ed25519(): CheckpointSigner & JwsSigner {
  const { privateKey } = generateKeyPairSync('ed25519');
  const x = (createPublicKey(privateKey).export({ format: 'jwk' }) as { x: string }).x;
  const publicJwk: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x };
  return {
    algorithm: 'EdDSA',
    publicJwk,
    keyId: jwkThumbprint(publicJwk),
    sign: async (m) => new Uint8Array(sign(null, m, privateKey)),
  };
}

/** A log checkpointed by `first`, rotated to `second`, and an export header carrying `statement`. */
async function rotatedLog() {
  const identity = ed25519();
  const first = ed25519();
  const second = ed25519();
  const t0 = new Date(Date.now() - 60_000).toISOString();
  const log = new ReceiptLog(new DatabaseSync(':memory:'), first, { checkpointEvery: 1e6, checkpointSeconds: 0 });
  for (let i = 0; i < 3; i++) log.append('tool_call', 'agent', { n: i });
  await log.rotateSigner(second);
  const rotatedAt = new Date().toISOString();
  const endorsed: EndorsedKey[] = [
    { key_id: second.keyId, jwk: second.publicJwk, not_before: rotatedAt, not_after: null },
    { key_id: first.keyId, jwk: first.publicJwk, not_before: t0, not_after: rotatedAt },
  ];
  // Signed before the last checkpoint: it cannot vouch for what came after it.
  const stale = await signDeviceStatement(identity, endorsed);
  await new Promise((r) => setTimeout(r, 5));
  for (let i = 0; i < 3; i++) log.append('tool_call', 'agent', { n: i });
  await log.checkpoint();
  const exportWith = async (keys: EndorsedKey[], by: JwsSigner = identity) => {
    log.deviceStatement = await signDeviceStatement(by, keys);
    return [...log.exportLines()];
  };
  return { identity, deviceId: jwkThumbprint(identity.publicJwk), endorsed, exportWith, log, stale };
}

/** Rewrite the header (and its unkeyed hash, as anyone editing the file can). */
function withHeader(lines: string[], edit: (h: ExportHeader) => void): string[] {
  const header = JSON.parse(lines[0]!) as ExportHeader;
  edit(header);
  const { header_sha256: _old, ...rest } = header;
  return [JSON.stringify({ ...rest, header_sha256: headerHash(rest as ExportHeader) }), ...lines.slice(1)];
}

describe('device statement: the identity key vouches for the receipts keys (key custody)', () => {
  it('an export verifies against the device ID alone, across a rotation', async () => {
    const { deviceId, endorsed, exportWith } = await rotatedLog();
    const r = verifyExport(await exportWith(endorsed), { trustedDevice: deviceId });
    assert.deepEqual([r.ok, r.reason, r.checkpoints, r.key_source], [true, null, 2, 'device']);
  });

  it('another device, a missing statement, or a forged statement is refused', async () => {
    const { deviceId, endorsed, exportWith } = await rotatedLog();
    const lines = await exportWith(endorsed);
    const other = ed25519();
    let r = verifyExport(lines, { trustedDevice: jwkThumbprint(other.publicJwk) });
    assert.equal(r.ok, false);
    assert.match(r.reason ?? '', new RegExp(`signed by device ${deviceId}, not`));

    r = verifyExport(await exportWith(endorsed, other), { trustedDevice: deviceId });
    assert.match(r.reason ?? '', /signed by device .*, not /);

    r = verifyExport(
      withHeader(lines, (h) => delete h.device_statement),
      { trustedDevice: deviceId },
    );
    assert.match(r.reason ?? '', /carries no device statement/);

    // Swap in a key of the attacker's own by editing the payload: the signature no longer holds.
    const forged = withHeader(lines, (h) => {
      const [head, payload, sig] = h.device_statement!.split('.');
      const body = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { receipts_keys: EndorsedKey[] };
      body.receipts_keys[0]!.jwk = other.publicJwk;
      h.device_statement = `${head}.${Buffer.from(JSON.stringify(body)).toString('base64url')}.${sig}`;
    });
    r = verifyExport(forged, { trustedDevice: deviceId });
    assert.match(r.reason ?? '', /signature is invalid/);
  });

  it('a checkpoint by a key the device does not vouch for, or outside its interval, fails', async () => {
    const { deviceId, endorsed, exportWith } = await rotatedLog();
    let r = verifyExport(await exportWith([endorsed[0]!]), { trustedDevice: deviceId });
    assert.equal(r.ok, false);
    assert.match(r.reason ?? '', /signed by an unknown key/);

    // The first key retired an hour before its checkpoint: a stolen retired key signing later.
    const early = new Date(Date.now() - 3_600_000).toISOString();
    const retiredEarly = [endorsed[0]!, { ...endorsed[1]!, not_before: early, not_after: early }];
    r = verifyExport(await exportWith(retiredEarly), { trustedDevice: deviceId });
    assert.equal(r.ok, false);
    assert.match(r.reason ?? '', /outside the interval the device vouched for/);
  });

  it('a statement older than a checkpoint does not vouch for it (an old statement replayed)', async () => {
    const { deviceId, log, stale } = await rotatedLog();
    log.deviceStatement = stale;
    const r = verifyExport([...log.exportLines()], { trustedDevice: deviceId });
    assert.equal(r.ok, false);
    assert.match(r.reason ?? '', /outside the interval the device vouched for \(.* to the statement's time/);
  });
});
