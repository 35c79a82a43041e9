import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { lookupGroup } from '@briefcase/briefcased/os-groups';
import { BriefcaseError } from '@briefcase/protocol/errors';

/**
 * The person's side of the agent socket (docs/service.md): `briefcase mcp --socket PATH` or
 * BRIEFCASE_AGENT_SOCKET. Nothing here reads the daemon's data directory; the socket's group is
 * the credential, so the only useful thing to say when it refuses is which group to join.
 */
export function agentSocketFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = flag ?? (env.BRIEFCASE_AGENT_SOCKET || undefined);
  if (path !== undefined && !path.startsWith('/')) {
    throw new BriefcaseError('bad_request', `agent socket "${path}": give an absolute path`);
  }
  return path;
}

/** Connect once, so that a missing socket or a missing group membership is said at start, plainly. */
export function checkAgentSocket(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('error', (e: NodeJS.ErrnoException) => reject(explain(path, e)));
  });
}

function explain(path: string, e: NodeJS.ErrnoException): BriefcaseError {
  if (e.code === 'EACCES' || e.code === 'EPERM') {
    const group = owningGroup(path);
    const who = currentUser();
    const join = group
      ? `only members of the group "${group}" may use it. Ask an administrator to run \`sudo usermod -aG ${group} ${who}\`, then log in again (a new login picks up the group)`
      : 'your user is not in the group that owns it; ask an administrator which one';
    return new BriefcaseError('permission_denied', `permission denied on the agent socket ${path}: ${join}`, e.message);
  }
  if (e.code === 'ENOENT') {
    return new BriefcaseError(
      'daemon_unreachable',
      `no agent socket at ${path}: the Briefcase service is not running (\`systemctl status briefcase\`) or the path is wrong`,
      e.message,
    );
  }
  if (e.code === 'ECONNREFUSED') {
    return new BriefcaseError(
      'daemon_unreachable',
      `nothing answers on the agent socket ${path}: the Briefcase service has stopped (\`systemctl status briefcase\`)`,
      e.message,
    );
  }
  return new BriefcaseError(
    'daemon_unreachable',
    `cannot connect to the agent socket ${path}: ${e.message}`,
    e.message,
  );
}

/** The group of the socket, or of the nearest directory above it we may look at (a 0750 one). */
function owningGroup(path: string): string | null {
  for (let p = path; ; p = dirname(p)) {
    try {
      const gid = statSync(p).gid;
      return lookupGroup(gid)?.name ?? String(gid);
    } catch {
      if (p === '/') return null;
    }
  }
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? String(process.getuid?.() ?? '$USER');
  }
}

/**
 * The HTTP gateway's bearer token when it runs from a person's account: kept in the person's own
 * config directory (made on first use, 0600), since the daemon's data directory is not theirs.
 */
export function personGatewayToken(file?: string): { file: string; token: string } {
  const path =
    file ?? join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'briefcase', 'gateway-http.token');
  try {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new BriefcaseError(
        'invalid_config',
        `${path} has mode ${mode.toString(8)}: other users could read the gateway token. Run \`chmod 600 ${path}\``,
      );
    }
    return { file: path, token: readFileSync(path, 'utf8').trim() };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const token = `bc_gw_${randomBytes(32).toString('base64url')}`;
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return { file: path, token };
}
