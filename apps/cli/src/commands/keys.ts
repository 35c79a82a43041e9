import { existsSync, readdirSync, rmSync } from 'node:fs';
import { jwkThumbprint } from '@briefcase/crypto';
import { daemonAnswers, type DataPaths } from '@briefcase/briefcased/paths';
import {
  createKey,
  DEFAULT_ALGORITHM,
  isKeyRole,
  KEY_ALGORITHMS,
  KEY_ROLES,
  pinSecretName,
  readPublicKey,
  readPublicKeys,
  readPaymentKey,
  type KeyAlgorithm,
  type KeyRole,
} from '@briefcase/keys';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { cliCommand, homeArgsFor } from '@briefcase/protocol/invocation';
import { loadMasterKey, moveMasterKey, openKeychain, Secret, Vault } from '@briefcase/vault';
import type { AdminClient } from '../client.ts';
import { print, printJson, table } from '../output.ts';
import { askHidden } from '../prompt.ts';

/** `briefcase keys list`: read from the data directory, so it works without the daemon. */
export function keysList(paths: DataPaths, json: boolean): void {
  const keys: {
    role: string;
    algorithm: string;
    backend: string;
    non_exportable: boolean;
    key_id: string;
    thumbprint: string;
    created_at: string;
    retired_at: string | null;
    address?: string;
  }[] = KEY_ROLES.flatMap((role) =>
    readPublicKeys(paths.home, role).map((k) => ({
      role,
      algorithm: k.algorithm,
      backend: k.backend,
      non_exportable: k.backend === 'pkcs11',
      key_id: k.keyId,
      thumbprint: jwkThumbprint(k.jwk),
      created_at: k.createdAt,
      retired_at: k.retiredAt,
    })),
  );
  const payment = readPaymentKey(paths.home);
  if (payment) {
    keys.push({
      role: 'payment',
      algorithm: payment.algorithm,
      backend: payment.backend,
      non_exportable: payment.backend === 'pkcs11',
      key_id: payment.key_id,
      thumbprint: payment.key_id,
      created_at: payment.created_at,
      retired_at: null,
      address: payment.address,
    });
  }
  const deviceId = readPublicKey(paths.home, 'identity')?.keyId ?? null;
  if (json) return printJson({ device_id: deviceId, keys });
  if (deviceId) print(`device_id ${deviceId} (the identity key's thumbprint)\n`);
  print(
    table([
      ['ROLE', 'ALGORITHM', 'BACKEND', 'NON-EXPORTABLE', 'THUMBPRINT', 'STATE'],
      ...keys.map((k) => [
        k.role,
        k.algorithm,
        k.backend,
        String(k.non_exportable),
        k.thumbprint,
        k.retired_at ? `retired ${k.retired_at}` : k.address ? `current, address ${k.address}` : 'current',
      ]),
    ]),
  );
}

export async function keysRotate(
  c: AdminClient,
  o: { role: string; algorithm?: string },
  json: boolean,
): Promise<void> {
  const role = parseRole(o.role);
  const algorithm = o.algorithm === undefined ? undefined : parseAlgorithm(o.algorithm);
  const r = await c.post<{ role: string; old_key_id: string; key_id: string; algorithm: string; logged_out: string[] }>(
    '/v1/admin/keys/rotate',
    { role, ...(algorithm ? { algorithm } : {}) },
  );
  if (json) return printJson(r);
  print(
    `Rotated the ${r.role} key: ${r.old_key_id} → ${r.key_id} (${r.algorithm}). Records signed before still verify.`,
  );
  if (r.logged_out.length > 0) {
    print(
      `Tokens bound to the old DPoP key were revoked; log in again: ${r.logged_out.map((n) => c.command('remote', 'login', n)).join('; ')}`,
    );
  }
}

/** PKCS#11 modules in the places Debian and common vendors install them. */
const MODULE_GLOBS: [string, RegExp][] = [
  ['/usr/lib/softhsm', /^libsofthsm2\.so$/],
  ['/usr/lib/x86_64-linux-gnu/pkcs11', /\.so$/],
  ['/usr/lib/x86_64-linux-gnu', /^(opensc-pkcs11|libykcs11|libtpm2_pkcs11)\.so$/],
  ['/usr/local/lib', /^(libykcs11|libtpm2_pkcs11)\.so$/],
];

/** `briefcase keys backends`: what this machine offers. */
export async function keysBackends(json: boolean): Promise<void> {
  const modules = new Set<string>();
  for (const [dir, re] of MODULE_GLOBS) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (re.test(f)) modules.add(`${dir}/${f}`);
  }
  const tpm = [...modules].find((m) => m.endsWith('/libtpm2_pkcs11.so'));
  const keychain = await openKeychain();
  const backends = [
    {
      backend: 'software',
      available: true,
      non_exportable: false,
      note: 'Ed25519 or P-256, sealed under the vault master key',
    },
    ...[...modules]
      .sort()
      .map((m) => ({ backend: `pkcs11:${m}`, available: true, non_exportable: true, note: 'P-256 on the token' })),
    {
      backend: 'tpm2',
      available: tpm !== undefined,
      non_exportable: true,
      note: tpm
        ? `P-256 bound to the TPM: --backend pkcs11 --module ${tpm}`
        : 'needs tpm2-pkcs11 (Debian: libtpm2-pkcs11-1) and tpm2-abrmd',
    },
    {
      backend: 'keychain',
      available: keychain.available,
      non_exportable: false,
      note: keychain.available
        ? 'holds the vault master key (`briefcase init --master-key keychain`)'
        : `for the vault master key; not reachable: ${keychain.reason}`,
    },
    { backend: 'secure-enclave', available: false, non_exportable: true, note: 'macOS only; not built yet' },
    { backend: 'windows-cng', available: false, non_exportable: true, note: 'Windows only; not built yet' },
  ];
  if (json) return printJson({ backends });
  print(
    table([
      ['BACKEND', 'AVAILABLE', 'NON-EXPORTABLE', 'NOTE'],
      ...backends.map((b) => [b.backend, String(b.available), String(b.non_exportable), b.note]),
    ]),
  );
}

export interface KeysCreateFlags {
  role: string;
  backend: string;
  algorithm?: string;
  module?: string;
  token?: string;
  label?: string;
  savePin?: boolean;
}

/**
 * `briefcase keys create`: a new key becomes the role's key; the one it replaces is retired (its
 * public key kept, so what it signed still verifies). Works on the data directory, so the daemon,
 * which holds the current keys, must be stopped.
 */
export async function keysCreate(paths: DataPaths, o: KeysCreateFlags, json: boolean): Promise<void> {
  if (o.role === 'payment') return (await import('./payment-key.ts')).paymentKeyCreate(paths, o, json);
  const role = parseRole(o.role);
  if (o.backend !== 'software' && o.backend !== 'pkcs11') {
    throw new BriefcaseError('bad_request', `--backend must be software or pkcs11 (not "${o.backend}")`);
  }
  if (await daemonAnswers(paths.socket)) {
    throw new BriefcaseError(
      'conflict',
      `stop the daemon first: it holds the current ${role} key (or use \`${cliCommand(...homeArgsFor(paths.home), 'keys', 'rotate', '--role', role)}\` for a software key)`,
    );
  }
  // The master key seals software keys, the saved PIN, and the OAuth tokens a dpop change drops.
  const needsMaster = o.backend === 'software' || o.savePin === true || role === 'dpop';
  const master = needsMaster
    ? await loadMasterKey(paths.home, { passphrase: process.env.BRIEFCASE_PASSPHRASE })
    : undefined;
  let pin: string | undefined;
  let location: { module: string; token_label: string; key_label: string } | undefined;
  if (o.backend === 'pkcs11') {
    if (o.algorithm !== undefined && o.algorithm !== 'ES256') {
      throw new BriefcaseError('bad_request', 'PKCS#11 keys are P-256 (ES256)');
    }
    if (!o.module || !o.token) throw new BriefcaseError('bad_request', 'give --module PATH and --token LABEL');
    location = { module: o.module, token_label: o.token, key_label: o.label ?? `briefcase-${role}` };
    pin = process.env.BRIEFCASE_PKCS11_PIN || (await askHidden(`PIN for PKCS#11 token "${o.token}": `));
  }
  const signer = createKey(
    paths.home,
    role,
    location
      ? { backend: 'pkcs11', location, pin }
      : {
          backend: 'software',
          algorithm: o.algorithm === undefined ? DEFAULT_ALGORITHM[role] : parseAlgorithm(o.algorithm),
          masterKey: master!.key,
        },
  );
  signer.close();
  // The device statement names the receipts keys and is signed by the identity key: after either
  // changes it is stale until the daemon signs a new one at its next start. Remove it rather than
  // let exports carry a statement that no longer matches `keys list`.
  if (role !== 'dpop') rmSync(paths.deviceStatement, { force: true });
  const loggedOut = role === 'dpop' ? dropDpopBoundTokens(Vault.open(paths.home, master!.key)) : [];
  if (location && o.savePin && pin) {
    Vault.open(paths.home, master!.key).set(
      pinSecretName(location.token_label),
      new Secret(pin),
      `PIN of the PKCS#11 token "${location.token_label}"`,
    );
  }
  const result = {
    role,
    backend: signer.backend,
    algorithm: signer.algorithm,
    key_id: signer.keyId,
    non_exportable: signer.nonExportable,
    ...(location && o.savePin ? { pin_saved_as: pinSecretName(location.token_label) } : {}),
    ...(role === 'dpop' ? { logged_out: loggedOut } : {}),
  };
  if (json) return printJson(result);
  print(
    location
      ? `Created a non-exportable P-256 ${role} key on token "${location.token_label}" (${result.key_id}).`
      : `Created a software ${result.algorithm} ${role} key (${result.key_id}); it is exportable by anyone with the vault master key.`,
  );
  if (location && !result.pin_saved_as) {
    print('Start the daemon with BRIEFCASE_PKCS11_PIN set, from a terminal (it asks), or create with --save-pin.');
  }
  if (loggedOut.length > 0) {
    print(
      `Tokens bound to the old DPoP key were dropped; log in again: ${loggedOut.map((n) => cliCommand(...homeArgsFor(paths.home), 'remote', 'login', n)).join('; ')}`,
    );
  }
}

/**
 * Refresh tokens are bound to the old DPoP key (RFC 9449): drop them so the servers say plainly
 * that they need a login, rather than failing a refresh. (A running daemon's `keys rotate` also
 * revokes them at the server; with the daemon stopped that cannot happen.) Returns the servers.
 */
function dropDpopBoundTokens(vault: Vault): string[] {
  const servers: string[] = [];
  for (const { name } of vault.list()) {
    const server = /^oauth\.(.+)\.refresh$/.exec(name)?.[1];
    if (server && vault.remove(name)) servers.push(server);
  }
  return servers;
}

function parseRole(role: string): KeyRole {
  if (!isKeyRole(role)) {
    throw new BriefcaseError('bad_request', `--role must be one of ${[...KEY_ROLES, 'payment'].join(', ')}`);
  }
  return role;
}

function parseAlgorithm(algorithm: string): KeyAlgorithm {
  if (!(KEY_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new BriefcaseError('bad_request', `--algorithm must be one of ${KEY_ALGORITHMS.join(', ')}`);
  }
  return algorithm as KeyAlgorithm;
}

/**
 * `briefcase keys move-master --to keychain|file`: the vault master key to another place, same
 * value. The running daemon keeps the key it loaded; the next start reads the new place.
 */
export async function keysMoveMaster(paths: DataPaths, to: string, json: boolean): Promise<void> {
  if (to !== 'keychain' && to !== 'file') throw new BriefcaseError('bad_request', '--to must be keychain or file');
  const r = await moveMasterKey(paths.home, to, { passphrase: process.env.BRIEFCASE_PASSPHRASE });
  if (json) return printJson(r);
  print(
    r.from === r.to
      ? `The vault master key was already in the ${to === 'file' ? 'key file' : 'OS keychain'}.`
      : `Moved the vault master key from ${r.from} to ${r.to === 'key_file' ? 'the key file' : 'the OS keychain'}.`,
  );
  if (r.removed.length > 0) print(`Removed: ${r.removed.join(', ')}`);
}
