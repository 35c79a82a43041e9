import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { cliCommand } from '@briefcase/protocol/invocation';
import type { AdminClient } from '../client.ts';
import { print, printJson, table } from '../output.ts';
import { oneLine } from '../safe-text.ts';

interface ConnectorState {
  file: string;
  state: 'ok' | 'disabled';
  reason: string | null;
  tools: string[];
}

/** `briefcase connectors validate FILE`: offline, every problem at once. Returns the exit code. */
export async function connectorsValidate(file: string, json: boolean): Promise<number> {
  const { checkConnectorFile } = await import('@briefcase/briefcased/connectors-check');
  const r = checkConnectorFile(file);
  if (json) printJson(r);
  else if (r.ok) print(`${oneLine(file)} is valid: tool ${r.tools.map(oneLine).join(', ')}`);
  else {
    print(`${oneLine(file)}: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}`);
    for (const p of r.problems) print(`  at ${oneLine(p.at)}: ${oneLine(p.problem)}\n    → ${oneLine(p.fix)}`);
  }
  return r.ok ? 0 : 1;
}

/** `briefcase connectors add FILE [--name NAME]`: a guarded change once a passkey exists. */
export async function connectorsAdd(
  c: AdminClient,
  file: string,
  name: string | undefined,
  json: boolean,
): Promise<void> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BriefcaseError(
      'bad_request',
      `${file}: not readable JSON: ${(e as Error).message} (\`${cliCommand('connectors', 'validate', file)}\` says more)`,
    );
  }
  const r = await c.post<{ file: string; tools: string[] }>('/v1/admin/connectors', {
    file: name ?? basename(file),
    manifest,
  });
  if (json) return printJson(r);
  print(`Added the connector ${oneLine(r.file)}: ${r.tools.map(oneLine).join(', ')}.`);
}

export async function connectorsList(c: AdminClient, json: boolean): Promise<number> {
  const { connectors } = await c.get<{ connectors: ConnectorState[] }>('/v1/admin/connectors');
  if (json) {
    printJson({ connectors });
  } else if (connectors.length === 0) {
    print(`No connectors. Add one with \`${cliCommand('connectors', 'add')} FILE\`.`);
  } else {
    print(
      table([
        ['FILE', 'STATE', 'TOOLS'],
        ...connectors.map((k) => [
          k.file,
          k.state === 'ok' ? 'ok' : `disabled: ${oneLine(k.reason ?? '')}`,
          k.tools.join(', ') || '-',
        ]),
      ]),
    );
  }
  return connectors.every((k) => k.state === 'ok') ? 0 : 1;
}

export async function connectorsRemove(c: AdminClient, name: string, json: boolean): Promise<void> {
  const r = await c.delete<{ file: string }>(`/v1/admin/connectors/${encodeURIComponent(name)}`);
  if (json) return printJson(r);
  print(`Removed the connector ${oneLine(r.file)}.`);
}
