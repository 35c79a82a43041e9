import type { SecretMetadata } from '@briefcase/protocol';
import { API_PATHS } from '@briefcase/protocol/api-paths';
import { BriefcaseError } from '@briefcase/protocol/errors';
import type { AdminClient } from '../client.ts';
import { print, printJson, table, warn } from '../output.ts';
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
  if (info.weak) warn(weakWarning(info));
  if (json) printJson(info);
  else if (info.injectable) {
    print(`Stored secret ${info.name} (${info.length} characters). Reference it as {{secret:${info.name}}}.`);
  } else print(`Stored secret ${info.name} (${info.length} characters), for the Briefcase's own use only.`);
}

/**
 * Why a weak value is kept but never given to a tool: redacting a guessable value would tell
 * the agent where its guesses matched, and not redacting it would show it (docs/security.md).
 */
function weakWarning(info: SecretMetadata): string {
  return (
    `warning: ${info.name} is easy to guess (about ${info.strength_bits} bits of guessing work; 64 needed). ` +
    'It is stored, and the Briefcase can use it itself (a token PIN, for example), but no connector or MCP server ' +
    'can reference it: the output firewall cannot hide a guessable value from the agent. ' +
    'For a tool credential, store a long random value or the key the provider generated.'
  );
}

export async function secretsList(c: AdminClient, json: boolean): Promise<void> {
  const { secrets } = await c.get<{ secrets: SecretMetadata[] }>(API_PATHS.adminSecrets);
  if (json) return printJson({ secrets });
  if (secrets.length === 0) return print('No secrets.');
  print(
    table([
      ['NAME', 'STRENGTH', 'UPDATED', 'DESCRIPTION'],
      ...secrets.map((s) => [s.name, strength(s), s.updated_at, s.description ?? '']),
    ]),
  );
}

export async function secretsRemove(c: AdminClient, name: string, json: boolean): Promise<void> {
  const r = await c.delete<{ name: string }>(`${API_PATHS.adminSecrets}/${encodeURIComponent(name)}`);
  if (json) printJson({ ok: true, name: r.name });
  else print(`Removed secret ${r.name}.`);
}

function strength(s: SecretMetadata): string {
  if (s.weak) return `weak (${s.strength_bits} bits, daemon only)`;
  return s.injectable ? `strong (${s.strength_bits} bits)` : `strong (${s.strength_bits} bits, daemon only)`;
}
