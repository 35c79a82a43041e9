import type { AccessManifest } from '@briefcase/protocol';
import type { Services } from '../daemon.ts';

/**
 * What a tool may reach, whatever its kind: a remote server's tools take their server's
 * manifest; connectors, code and command tools carry their own. Undefined for builtins.
 */
export function toolAccess(s: Services, tool: string): { access: AccessManifest; kind: string } | undefined {
  const owner = s.registry.owner(tool);
  if (!owner || owner.kind === 'builtin') return undefined;
  if (owner.kind === 'remote') return { access: s.remotes.summary(owner.server).access, kind: 'remote' };
  const access = s.registry.get(tool)?.access;
  return access ? { access, kind: owner.kind } : undefined;
}

/** The same, in one line for an approver (console approvals, `briefcase approvals show`). */
export function toolAccessText(s: Services, tool: string): string | undefined {
  const found = toolAccess(s, tool);
  if (!found) return undefined;
  const { access: a, kind } = found;
  if (a.isolation === 'none') return 'everything your user can (it runs without the sandbox)';
  const parts: string[] = [];
  // A connector and a code tool have no files at all; a process has its own directory.
  if (kind === 'remote' || kind === 'command') {
    parts.push(`files: ${a.filesystem.map((f) => `${f.path} (${f.access})`).join(', ') || 'only its own directory'}`);
  }
  parts.push(
    `network: ${a.network.join(', ') || 'no network'}${a.allow_private ? ' (private addresses allowed)' : ''}`,
  );
  if (a.env.length > 0) parts.push(`environment: ${a.env.join(', ')}`);
  if (Object.keys(a.secrets).length > 0) parts.push(`secrets: ${[...new Set(Object.values(a.secrets))].join(', ')}`);
  return parts.join('; ');
}
