import { existsSync, readFileSync } from 'node:fs';
import { DaemonConnection } from '@briefcase/api-client';
import type { DataPaths } from '@briefcase/briefcased/paths';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { HostError, ViewerSession } from './messages.ts';

/** The daemon admin route that mints a read-only console session (the console's mintViewerSession). */
export const VIEWER_SESSION_PATH = '/v1/admin/console/viewer-session';
const TIMEOUT_MS = 10_000;

/**
 * Ask the daemon for a viewer session. The host runs as the person's user and reads admin.token
 * like the CLI does; the token is used here, on the Unix socket, and goes nowhere else. The answer
 * is checked and reduced to { token, expires_at, console_url }, and refused outright if the daemon
 * ever handed back the admin token itself.
 */
export async function mintViewerSession(paths: DataPaths): Promise<ViewerSession> {
  if (!existsSync(paths.adminToken)) {
    throw new HostError('not_initialised', `${paths.home} is not initialised: run \`briefcase init\``);
  }
  let adminToken: string;
  try {
    adminToken = readFileSync(paths.adminToken, 'utf8').trim();
  } catch {
    // The dedicated-user deployment: the daemon's files belong to its own user, not to this one.
    throw new HostError(
      'no_access',
      `this user cannot read ${paths.adminToken}: with a dedicated service user the extension cannot get a session yet`,
    );
  }
  const conn = new DaemonConnection(paths.socket, adminToken);
  let answer: unknown;
  try {
    answer = await conn.request('POST', VIEWER_SESSION_PATH, {}, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (e) {
    if (e instanceof BriefcaseError && e.code === 'daemon_unreachable') {
      throw new HostError('daemon_unreachable', 'the Briefcase daemon is not running: start it with `briefcase start`');
    }
    if (e instanceof BriefcaseError) throw new HostError('daemon_error', `${e.message} [${e.code}]`);
    throw new HostError('daemon_unreachable', 'the Briefcase daemon did not answer in time');
  } finally {
    conn.close();
  }
  const parsed = ViewerSession.safeParse(answer);
  if (!parsed.success) throw new HostError('bad_daemon_answer', 'the daemon did not answer with a viewer session');
  if (parsed.data.token === adminToken) {
    throw new HostError('bad_daemon_answer', 'the daemon answered with the admin token; refusing to pass it on');
  }
  return parsed.data;
}
