import { chmodSync, chownSync, lstatSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, isAbsolute, relative } from 'node:path';
import { BriefcaseError } from '@briefcase/protocol';
import type { AgentSocketConfig } from '../config.ts';
import { groupId } from '../os-groups.ts';
import { daemonAnswers } from '../paths.ts';

/** An agent socket whose group and directory have been checked (docs/service.md). */
export interface PreparedAgentSocket {
  path: string;
  group: string;
  gid: number;
}

/**
 * Check an agent socket's configuration before anything listens: the group exists and this
 * process may give a file to it, the directory exists and nobody else can write to it (a user
 * who could would replace the socket with one of their own), and whatever is at the path is a
 * stale socket, not a running daemon or some other file.
 */
export async function prepareAgentSocket(config: AgentSocketConfig, dataDir: string): Promise<PreparedAgentSocket> {
  const where = `agent socket ${config.path}`;
  const inData = relative(dataDir, config.path);
  if (!inData.startsWith('..') && !isAbsolute(inData)) {
    throw new BriefcaseError(
      'invalid_config',
      `${where}: it is inside the data directory ${dataDir}, which stays closed to the agents: put it in a directory of its own (e.g. /run/briefcase)`,
    );
  }
  const gid = groupId(config.group);
  if (gid === null) throw new BriefcaseError('invalid_config', `${where}: there is no group "${config.group}"`);
  const uid = process.getuid?.() ?? 0;
  const groups = [process.getegid?.(), ...(process.getgroups?.() ?? [])];
  if (uid !== 0 && !groups.includes(gid)) {
    throw new BriefcaseError(
      'invalid_config',
      `${where}: the daemon's user is not in the group "${config.group}", so it cannot give the socket to that group: add it (SupplementaryGroups=${config.group} in a systemd unit, or \`usermod -aG ${config.group} <daemon user>\`)`,
    );
  }
  const dir = dirname(config.path);
  let dirMode: number;
  try {
    dirMode = statSync(dir).mode;
  } catch {
    throw new BriefcaseError(
      'invalid_config',
      `${where}: the directory ${dir} does not exist: create it (\`install -d -m 0750 -g ${config.group} ${dir}\`) or let systemd do it (RuntimeDirectory=)`,
    );
  }
  if ((dirMode & 0o022) !== 0) {
    throw new BriefcaseError(
      'invalid_config',
      `${where}: ${dir} has mode ${(dirMode & 0o7777).toString(8)}: others can write to it and could replace the socket. Use a directory only the daemon's user can write to (mode 0750)`,
    );
  }
  let existing: ReturnType<typeof lstatSync> | undefined;
  try {
    existing = lstatSync(config.path);
  } catch {
    existing = undefined;
  }
  if (existing && !existing.isSocket()) {
    throw new BriefcaseError('invalid_config', `${where}: something that is not a socket is at that path`);
  }
  if (existing) {
    if (await daemonAnswers(config.path)) {
      throw new BriefcaseError('conflict', `a daemon is already listening on ${config.path}`);
    }
    rmSync(config.path, { force: true });
  }
  return { path: config.path, group: config.group, gid };
}

/**
 * Listen on the agent socket: created 0600 (no window where it is wider), then given to the
 * agents' group and opened to it (0660). Every connection on it is the agent (server.ts).
 */
export function listenAgentSocket(server: Server, socket: PreparedAgentSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const previous = process.umask(0o177);
    server.once('error', (e) => {
      process.umask(previous);
      reject(
        (e as NodeJS.ErrnoException).code === 'EADDRINUSE'
          ? new BriefcaseError('conflict', `socket ${socket.path} is in use`)
          : e,
      );
    });
    server.listen(socket.path, () => {
      process.umask(previous);
      try {
        chownSync(socket.path, -1, socket.gid);
        chmodSync(socket.path, 0o660);
        resolve();
      } catch (e) {
        server.close();
        reject(e);
      }
    });
  });
}
