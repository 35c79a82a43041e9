/**
 * Signatures per second and latency for each key backend this machine has (key-custody issue):
 * software Ed25519 and P-256, and P-256 on SoftHSM and on a software TPM through tpm2-pkcs11 (set up in
 * temp dirs, as the tests do). Then the tool-call hot path with a TPM-held receipts key: checkpoint
 * signatures are made off the hot path (every 100 records or 30 s), so per-call latency should not
 * change with the backend.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pkcs11Signer, SoftwareSigner, type Signer } from '@briefcase/keys';
import {
  SOFTHSM_MODULE,
  TPM_MODULE,
  softhsmMissing,
  softhsmToken,
  tpmMissing,
  tpmToken,
  type TokenSetup,
} from '../test/fixtures/tokens.ts';
import { BIN, latency, percentiles, round, startDaemon, type Target } from './lib.ts';

async function rate(signer: Signer, n: number) {
  const message = randomBytes(128);
  for (let i = 0; i < Math.min(20, n); i++) await signer.sign(message);
  const samples: number[] = [];
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await signer.sign(message);
    samples.push(performance.now() - t);
  }
  return { signs_per_s: Math.round(n / ((performance.now() - start) / 1000)), latency_ms: percentiles(samples) };
}

async function onToken(setup: (home: string) => Promise<TokenSetup>, module: string, n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'bc-sign-'));
  const token = await setup(join(dir, 'h'));
  Object.assign(process.env, token.env);
  try {
    const signer = Pkcs11Signer.open(
      'receipts',
      { module, token_label: 'briefcase', key_label: 'bench' },
      token.env.BRIEFCASE_PKCS11_PIN,
      true,
    );
    try {
      return await rate(signer, n);
    } finally {
      signer.close();
    }
  } finally {
    await token.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(log: (m: string) => void = () => {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bc-sign-'));
  log('sign rate: software Ed25519 and P-256…');
  const software = await rate(SoftwareSigner.create(dir, 'receipts', randomBytes(32), 'EdDSA'), 2000);
  const softwareP256 = await rate(SoftwareSigner.create(dir, 'dpop', randomBytes(32), 'ES256'), 2000);
  rmSync(dir, { recursive: true, force: true });
  const result: Record<string, unknown> = {
    benchmark: 'sign-rate',
    software_ed25519: software,
    software_p256: softwareP256,
  };
  if (softhsmMissing()) result.softhsm_p256 = { skipped: softhsmMissing() };
  else {
    log('sign rate: SoftHSM…');
    result.softhsm_p256 = await onToken(softhsmToken, SOFTHSM_MODULE, 500);
  }
  if (tpmMissing()) result.tpm_p256 = { skipped: tpmMissing() };
  else {
    log('sign rate: TPM…');
    result.tpm_p256 = await onToken(tpmToken, TPM_MODULE, 100);
    log('hot path with a TPM-held receipts key…');
    result.hot_path_with_tpm_receipts_key_ms = await hotPathWithTpmKey();
  }
  return result;
}

/** `echo` through the Briefcase with the receipts key on the TPM, against a software key. */
async function hotPathWithTpmKey() {
  const software = await startDaemon();
  const viaSoftware: Target = { command: process.execPath, args: [BIN, 'mcp'], env: software.env };
  const soft = await latency(viaSoftware, 'echo', (i) => ({ text: `call ${i}` }));
  await software.stop();

  const dir = mkdtempSync(join(tmpdir(), 'bc-sign-'));
  const token = await tpmToken(join(dir, 'h'));
  Object.assign(process.env, token.env);
  const daemon = await startDaemon((home, cli) => {
    const r = cli([
      'keys',
      'create',
      '--role',
      'receipts',
      '--backend',
      'pkcs11',
      '--module',
      TPM_MODULE,
      '--token',
      'briefcase',
    ]);
    if (r.status !== 0) throw new Error(`keys create: ${r.stderr}`);
  });
  try {
    const tpm = await latency({ command: process.execPath, args: [BIN, 'mcp'], env: daemon.env }, 'echo', (i) => ({
      text: `call ${i}`,
    }));
    return { software_key: soft, tpm_key: tpm, difference_p50: round(tpm.p50 - soft.p50) };
  } finally {
    await daemon.stop();
    await token.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}
