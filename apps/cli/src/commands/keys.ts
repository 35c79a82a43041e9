import { jwkThumbprint } from '@briefcase/crypto';
import type { DataPaths } from '@briefcase/briefcased';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { createPkcs11Key, readPublicKeys, type KeyRole } from '@briefcase/keys';
import { BriefcaseError } from '@briefcase/protocol';
import type { AdminClient } from '../client.ts';
import { print, printJson, table } from '../output.ts';

const ROLES: KeyRole[] = ['receipts', 'dpop'];

/** `briefcase keys list`: read from the data directory, so it works without the daemon. */
export function keysList(paths: DataPaths, json: boolean): void {
  const keys = ROLES.flatMap((role) =>
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
  if (json) return printJson({ keys });
  print(
    table([
      ['ROLE', 'ALGORITHM', 'BACKEND', 'NON-EXPORTABLE', 'THUMBPRINT', 'STATE'],
      ...keys.map((k) => [
        k.role,
        k.algorithm,
        k.backend,
        String(k.non_exportable),
        k.thumbprint,
        k.retired_at ? `retired ${k.retired_at}` : 'current',
      ]),
    ]),
  );
}

export async function keysRotate(c: AdminClient, role: string, json: boolean): Promise<void> {
  if (!ROLES.includes(role as KeyRole))
    throw new BriefcaseError('bad_request', `--role must be one of ${ROLES.join(', ')}`);
  const r = await c.post<{ role: string; old_key_id: string; key_id: string }>('/v1/admin/keys/rotate', { role });
  if (json) printJson(r);
  else print(`Rotated the ${r.role} key: ${r.old_key_id} → ${r.key_id}. Records signed before still verify.`);
}

/** PKCS#11 modules in the places Debian and common vendors install them. */
const MODULE_GLOBS: [string, RegExp][] = [
  ['/usr/lib/softhsm', /^libsofthsm2\.so$/],
  ['/usr/lib/x86_64-linux-gnu/pkcs11', /\.so$/],
  ['/usr/lib/x86_64-linux-gnu', /^(opensc-pkcs11|libykcs11|libtpm2_pkcs11)\.so$/],
  ['/usr/local/lib', /^(libykcs11|libtpm2_pkcs11)\.so$/],
];

/** `briefcase keys backends`: what this machine offers. */
export function keysBackends(json: boolean): void {
  const modules = new Set<string>();
  for (const [dir, re] of MODULE_GLOBS) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (re.test(f)) modules.add(`${dir}/${f}`);
  }
  const backends = [
    { backend: 'software', available: true, non_exportable: false, note: 'keys sealed under the vault master key' },
    ...[...modules]
      .sort()
      .map((m) => ({ backend: `pkcs11:${m}`, available: true, non_exportable: true, note: 'P-256 on the token' })),
    { backend: 'keychain', available: false, non_exportable: false, note: 'not implemented yet' },
    { backend: 'secure-enclave', available: false, non_exportable: true, note: 'macOS only; not implemented' },
    { backend: 'windows-cng', available: false, non_exportable: true, note: 'Windows only; not implemented' },
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
  module?: string;
  token?: string;
  label?: string;
}

/** `briefcase keys create --backend pkcs11`: a new key on the token becomes the role's key. */
export async function keysCreate(paths: DataPaths, o: KeysCreateFlags, json: boolean): Promise<void> {
  if (o.role !== 'receipts')
    throw new BriefcaseError('bad_request', 'only --role receipts can live on a token for now');
  if (o.backend !== 'pkcs11')
    throw new BriefcaseError('bad_request', '--backend must be pkcs11 (software keys are created by init and rotate)');
  if (!o.module || !o.token) throw new BriefcaseError('bad_request', 'give --module PATH and --token LABEL');
  const running = await new Promise<boolean>((resolve) => {
    const s = connect(paths.socket);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (running) throw new BriefcaseError('conflict', 'stop the daemon first: it holds the current receipts key');
  const signer = createPkcs11Key(
    paths.home,
    'receipts',
    { module: o.module, token_label: o.token, key_label: o.label ?? 'briefcase-receipts' },
    process.env.BRIEFCASE_PKCS11_PIN,
  );
  const result = {
    role: 'receipts',
    backend: 'pkcs11',
    algorithm: signer.algorithm,
    key_id: signer.keyId,
    non_exportable: true,
  };
  if ('close' in signer && typeof signer.close === 'function') signer.close();
  if (json) printJson(result);
  else
    print(
      `Created a non-exportable P-256 receipts key on token "${o.token}" (${result.key_id}). Start the daemon with BRIEFCASE_PKCS11_PIN set.`,
    );
}
