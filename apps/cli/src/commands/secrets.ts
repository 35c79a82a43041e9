import { API_PATHS, BriefcaseError, type SecretMetadata } from '@briefcase/protocol';
import type { AdminClient } from '../client.ts';
import { print, printJson, table } from '../output.ts';

/** Read the value from stdin (piped) or a prompt that does not echo. Never from argv. */
async function readSecretValue(name: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
  }
  process.stderr.write(`Value for ${name} (input hidden): `);
  process.stdin.setRawMode(true);
  process.stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new BriefcaseError('bad_request', 'cancelled'));
          return;
        }
        if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const finish = () => {
      process.stdin.off('data', onData);
      process.stdin.setRawMode(false);
      process.stdin.pause();
      process.stderr.write('\n');
    };
    process.stdin.on('data', onData);
  });
}

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
