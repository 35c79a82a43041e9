import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BriefcaseError } from '@briefcase/protocol';
import { writeFileAtomic } from '@briefcase/vault';
import type { Services } from '../daemon.ts';
import { connectorFromJson } from '../tools/registry.ts';

const FILE = /^[A-Za-z0-9_-]{1,64}\.json$/;

export function connectorFile(name: string): string {
  const file = name.endsWith('.json') ? name : `${name}.json`;
  if (!FILE.test(file))
    throw new BriefcaseError('bad_request', 'a connector file name is 1-64 of A-Z a-z 0-9 _ - (then .json)');
  return file;
}

/** Check a connector manifest without adding it (what the person will confirm). */
export function checkConnector(file: string, manifest: unknown): string[] {
  const tool = connectorFromJson(manifest, file);
  if (!tool.ok) throw new BriefcaseError('invalid_config', tool.error.join('\n'));
  return [tool.value.descriptor.name];
}

/** Add a connector: its file in connectors/, its tool in the registry, receipted. */
export function addConnector(
  s: Services,
  file: string,
  manifest: unknown,
): { ok: true; file: string; tools: string[] } {
  const tool = connectorFromJson(manifest, file);
  if (!tool.ok) throw new BriefcaseError('invalid_config', tool.error.join('\n'));
  const path = join(s.paths.connectors, file);
  if (existsSync(path)) throw new BriefcaseError('conflict', `connector ${file} exists: remove it first`);
  const added = s.registry.add(tool.value, { owner: { kind: 'connector', file } });
  if (!added.ok) throw new BriefcaseError('conflict', added.error);
  mkdirSync(s.paths.connectors, { recursive: true, mode: 0o700 });
  writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`);
  s.receipts.append('policy', 'admin', { event: 'connector_added', file, tools: [tool.value.descriptor.name] });
  return { ok: true, file, tools: [tool.value.descriptor.name] };
}

/** Narrowing: remove a connector's tools and its file. */
export function removeConnector(s: Services, file: string): { ok: true; file: string } {
  const path = join(s.paths.connectors, file);
  if (!existsSync(path)) throw new BriefcaseError('not_found', `no connector ${file}`);
  s.registry.removeOwned({ kind: 'connector', file });
  rmSync(path);
  s.receipts.append('policy', 'admin', { event: 'connector_removed', file });
  return { ok: true, file };
}
