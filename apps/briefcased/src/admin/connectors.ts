import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '@briefcase/crypto';
import { BriefcaseError } from '@briefcase/protocol';
import { writeFileAtomic } from '@briefcase/vault';
import type { Services } from '../daemon.ts';
import { connectorFromJson, describeOwner } from '../tools/registry.ts';
import { cli } from '../cli-hint.ts';
import { CONNECTOR_FILE, CONNECTOR_FILE_RULE } from '../connectors/directory.ts';

export function connectorFile(name: string): string {
  const file = name.endsWith('.json') ? name : `${name}.json`;
  if (!CONNECTOR_FILE.test(file))
    throw new BriefcaseError('bad_request', `a connector file name is ${CONNECTOR_FILE_RULE}`);
  return file;
}

/** Check a connector manifest without adding it (what the person will confirm). */
export function checkConnector(file: string, manifest: unknown): string[] {
  const tool = connectorFromJson(manifest, file);
  if (!tool.ok) throw new BriefcaseError('invalid_config', tool.error.join('\n'));
  return [tool.value.descriptor.name];
}

/**
 * Add a connector (after the presence guard): its exact bytes are approved, then written to
 * connectors/, then loaded; receipted. A file already there that is disabled (dropped in by hand,
 * or changed since its approval) is replaced: this is how such a file gets approved.
 */
export function addConnector(
  s: Services,
  file: string,
  manifest: unknown,
): { ok: true; file: string; tools: string[] } {
  const tool = connectorFromJson(manifest, file);
  if (!tool.ok) throw new BriefcaseError('invalid_config', tool.error.join('\n'));
  const path = join(s.paths.connectors, file);
  if (existsSync(path) && s.connectors.get(file)?.state === 'ok') {
    throw new BriefcaseError(
      'conflict',
      `connector ${file} exists: remove it first (\`${cli('connectors', 'rm', file)}\`)`,
    );
  }
  const name = tool.value.descriptor.name;
  const owner = s.registry.owner(name);
  if (owner && !(owner.kind === 'connector' && owner.file === file)) {
    throw new BriefcaseError('conflict', `tool "${name}" is already defined by ${describeOwner(owner)}`);
  }
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  const sha256 = sha256Hex(text);
  // Approved before it is written: the directory watcher then finds approved bytes.
  s.connectorApprovals.set(file, sha256, 'connectors add');
  mkdirSync(s.paths.connectors, { recursive: true, mode: 0o700 });
  writeFileAtomic(path, text);
  s.connectors.refresh(file);
  const state = s.connectors.get(file);
  if (state?.state !== 'ok') {
    throw new BriefcaseError('invalid_config', `connector ${file} did not load: ${state?.reason ?? 'unknown reason'}`);
  }
  s.receipts.append('policy', 'admin', { event: 'connector_added', file, sha256, tools: state.tools });
  return { ok: true, file, tools: state.tools };
}

/** Narrowing: remove a connector's tools, its file and its approval. */
export function removeConnector(s: Services, file: string): { ok: true; file: string } {
  const path = join(s.paths.connectors, file);
  if (!existsSync(path) && !s.connectors.get(file)) throw new BriefcaseError('not_found', `no connector ${file}`);
  rmSync(path, { force: true });
  s.connectorApprovals.remove(file);
  s.connectors.refresh(file);
  s.receipts.append('policy', 'admin', { event: 'connector_removed', file });
  return { ok: true, file };
}
