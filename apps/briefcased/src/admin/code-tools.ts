import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodeTool, MANIFEST_FILE, type CodeToolManifest } from '@briefcase/code-tools';
import { sha256Hex } from '@briefcase/crypto';
import { BriefcaseError, ToolName } from '@briefcase/protocol';
import type { Services } from '../daemon.ts';
import { findSecretValues } from '../config.ts';
import { CodeToolAdapter } from '../tools/code-tool.ts';

/** Where code tools live: `<data dir>/code-tools/<name>/` (apart from stdio servers' `tools/<name>/`) (manifest.json, the entry file, kv.json). */
export const codeToolsDir = (s: Services) => join(s.paths.home, 'code-tools');

function decode(code: unknown): Buffer {
  if (typeof code !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(code)) {
    throw new BriefcaseError('bad_request', 'code_base64 is the code file in base64');
  }
  return Buffer.from(code, 'base64');
}

/** Check a code tool without installing it: what the person confirms (its name and its access). */
export function checkCodeTool(manifest: unknown, codeBase64: unknown): CodeToolManifest {
  const secrets = findSecretValues(manifest);
  if (secrets.length > 0) throw new BriefcaseError('invalid_config', secrets.join('\n'));
  const checked = CodeTool.check(manifest, decode(codeBase64), 'manifest');
  if (!checked.ok) throw new BriefcaseError('invalid_config', checked.error.join('\n'));
  return checked.value;
}

/** Install a code tool: its files under code-tools/<name>/, its tool in the registry, receipted. */
export function addCodeTool(s: Services, manifest: unknown, codeBase64: unknown): Record<string, unknown> {
  const m = checkCodeTool(manifest, codeBase64);
  // The name is a directory under code-tools/: never ".", ".." or hidden.
  if (m.name.startsWith('.')) throw new BriefcaseError('bad_request', 'a code tool name may not start with "."');
  const code = decode(codeBase64);
  const dir = join(codeToolsDir(s), m.name);
  if (existsSync(dir)) throw new BriefcaseError('conflict', `code tool ${m.name} exists: remove it first`);
  const staging = `${dir}.adding`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  writeFileSync(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  writeFileSync(join(staging, m.entry), code, { mode: 0o600 });
  const loaded = CodeTool.load(staging);
  if (!loaded.ok) {
    rmSync(staging, { recursive: true, force: true });
    throw new BriefcaseError('invalid_config', loaded.error.join('\n'));
  }
  renameSync(staging, dir);
  const tool = CodeTool.load(dir);
  if (!tool.ok) throw new BriefcaseError('internal', tool.error.join('\n'));
  const added = s.registry.add(new CodeToolAdapter(tool.value), { owner: { kind: 'code', name: m.name } });
  if (!added.ok) {
    rmSync(dir, { recursive: true, force: true });
    throw new BriefcaseError('conflict', added.error);
  }
  const code_sha256 = sha256Hex(code);
  s.receipts.append('policy', 'admin', {
    event: 'code_tool_added',
    tool: m.name,
    runtime: m.runtime,
    code_sha256,
    access: m.access,
  });
  return { ok: true, tool: m.name, runtime: m.runtime, code_sha256, access: m.access };
}

/** Narrowing: remove a code tool, its files and its key-value store. */
export function removeCodeTool(s: Services, name: string): { ok: true; tool: string } {
  if (!ToolName.safeParse(name).success || name.startsWith('.'))
    throw new BriefcaseError('bad_request', 'not a tool name');
  const dir = join(codeToolsDir(s), name);
  if (!existsSync(dir) || s.registry.owner(name)?.kind !== 'code')
    throw new BriefcaseError('not_found', `no code tool ${name}`);
  s.registry.removeOwned({ kind: 'code', name });
  rmSync(dir, { recursive: true, force: true });
  s.receipts.append('policy', 'admin', { event: 'code_tool_removed', tool: name });
  return { ok: true, tool: name };
}
