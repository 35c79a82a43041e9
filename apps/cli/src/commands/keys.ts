import { jwkThumbprint } from '@briefcase/crypto';
import type { DataPaths } from '@briefcase/briefcased';
import { readPublicKeys, type KeyRole } from '@briefcase/keys';
import { BriefcaseError } from '@briefcase/protocol';
import type { AdminClient } from '../client.ts';
import { print, printJson, table } from '../output.ts';

const ROLES: KeyRole[] = ['receipts', 'dpop'];

/** `briefcase keys list`: read from the data directory, so it works without the daemon. */
export function keysList(paths: DataPaths, json: boolean): void {
  const keys = ROLES.flatMap((role) =>
    readPublicKeys(paths.home, role).map((k) => ({
      role,
      algorithm: 'EdDSA',
      backend: 'software',
      non_exportable: false,
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
