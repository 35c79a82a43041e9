import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkCommandTool, DEFINITION_FILE, type CommandToolManifest } from '@briefcase/command-tools';
import { canonicalize, sha256Hex } from '@briefcase/crypto';
import { BriefcaseError, ToolName } from '@briefcase/protocol';
import type { Services } from '../daemon.ts';
import { findSecretValues } from '../config.ts';
import { commandToolsDir, loadCommandTool } from '../tools/command-tool.ts';

/** Check a command tool definition without installing it: what the person confirms. */
export function checkCommandDefinition(definition: unknown): CommandToolManifest {
  const secrets = findSecretValues(definition);
  if (secrets.length > 0) throw new BriefcaseError('invalid_config', secrets.join('\n'));
  const checked = checkCommandTool(definition, 'definition');
  if (!checked.ok) throw new BriefcaseError('invalid_config', checked.error.join('\n'));
  return checked.value;
}

/**
 * Install a command tool: `command-tools/<name>/tool.json`, its tool in the registry, receipted
 * with its argv and access (adding a program an agent can run widens access: the route is guarded).
 */
export function addCommandTool(s: Services, definition: unknown): Record<string, unknown> {
  const m = checkCommandDefinition(definition);
  const root = commandToolsDir(s.paths.home);
  const dir = join(root, m.name);
  if (existsSync(dir)) throw new BriefcaseError('conflict', `command tool ${m.name} exists: remove it first`);
  const staging = `${dir}.adding`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  writeFileSync(join(staging, DEFINITION_FILE), `${JSON.stringify(definition, null, 2)}\n`, { mode: 0o600 });
  renameSync(staging, dir);
  const loaded = loadCommandTool(dir);
  if (!loaded.ok) {
    rmSync(dir, { recursive: true, force: true });
    throw new BriefcaseError('invalid_config', loaded.error.join('\n'));
  }
  const added = s.registry.add(loaded.value, { owner: { kind: 'command', name: m.name } });
  if (!added.ok) {
    rmSync(dir, { recursive: true, force: true });
    throw new BriefcaseError('conflict', added.error);
  }
  const definition_sha256 = sha256Hex(canonicalize(definition));
  s.receipts.append('policy', 'admin', {
    event: 'command_tool_added',
    tool: m.name,
    argv: m.argv,
    definition_sha256,
    access: m.access,
  });
  return { ok: true, tool: m.name, argv: m.argv, definition_sha256, access: m.access };
}

/** Narrowing: remove a command tool and its directory (its `work/` with it). */
export function removeCommandTool(s: Services, name: string): { ok: true; tool: string } {
  if (!ToolName.safeParse(name).success || name.startsWith('.'))
    throw new BriefcaseError('bad_request', 'not a tool name');
  const dir = join(commandToolsDir(s.paths.home), name);
  if (!existsSync(dir) || s.registry.owner(name)?.kind !== 'command')
    throw new BriefcaseError('not_found', `no command tool ${name}`);
  s.registry.removeOwned({ kind: 'command', name });
  rmSync(dir, { recursive: true, force: true });
  s.receipts.append('policy', 'admin', { event: 'command_tool_removed', tool: name });
  return { ok: true, tool: name };
}
