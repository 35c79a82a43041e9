import type { SecretMetadata } from '@briefcase/protocol';
import { API_PATHS } from '@briefcase/protocol/api-paths';
import { BriefcaseError } from '@briefcase/protocol/errors';
import type { AdminClient } from '../client.ts';
import { print, printJson, table } from '../output.ts';
import { readSecretValue } from '../prompt.ts';

export async function secretsSet(
  c: AdminClient,
  name: string,
  description: string | undefined,
  json: boolean,
): Promise<void> {
  const value = await readSecretValue(name);
  if (value.length === 0) throw new BriefcaseError('bad_request', 'the secret value is empty: nothing stored');
  const info = await c.put<SecretMetadata>(`${API_PATHS.adminSecrets}/${encodeURIComponent(name)}`, {
    value,
    ...(description ? { description } : {}),
  });
  if (json) printJson(info);
  else print(`Stored secret ${info.name} (${info.length} characters). Reference it as {{secret:${info.name}}}.`);
}

export async function secretsList(c: AdminClient, json: boolean): Promise<void> {
  const { secrets } = await c.get<{ secrets: SecretMetadata[] }>(API_PATHS.adminSecrets);
  if (json) return printJson({ secrets });
  if (secrets.length === 0) return print('No secrets.');
  print(
    table([['NAME', 'UPDATED', 'DESCRIPTION'], ...secrets.map((s) => [s.name, s.updated_at, s.description ?? ''])]),
  );
}

export async function secretsRemove(c: AdminClient, name: string, json: boolean): Promise<void> {
  const r = await c.delete<{ name: string }>(`${API_PATHS.adminSecrets}/${encodeURIComponent(name)}`);
  if (json) printJson({ ok: true, name: r.name });
  else print(`Removed secret ${r.name}.`);
}
