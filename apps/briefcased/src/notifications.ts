import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { approvalNotice, desktopNotifier, operationNotice, type Notice } from '@briefcase/notify';
import type { Services } from './daemon.ts';
import { resolveHome } from './paths.ts';

/** Approvals already announced (an id is announced once; the set forgets the oldest past this). */
const REMEMBER = 1000;

/**
 * Desktop notifications when an approval or a guarded operation starts waiting for a person
 * (issue 11, "find the person"). Best-effort: no session bus or no notification server is one log
 * line, never a failed call. The notice names the tool, its source and the approval id, never an
 * argument value (packages/notify/src/message.ts). Off with config `notifications.desktop: false`.
 */
export function startDesktopNotifications(s: Services, env: NodeJS.ProcessEnv = process.env): () => void {
  if (!s.config.notifications.desktop) return () => {};
  const notifier = desktopNotifier(env);
  if (!notifier.available) {
    s.logger.info('desktop notifications off', { reason: notifier.reason });
    return () => {};
  }
  const command = commandHint(s.paths.home, env);
  const announced = new Set<string>();
  let failedOnce = false;
  const send = (what: string, id: string, notice: Notice) => {
    notifier.send(notice).then(
      () => s.logger.debug('desktop notification sent', { [what]: id }),
      (e: unknown) => {
        // One line at info the first time (no notification server is normal on a headless box).
        const fields = { [what]: id, channel: notifier.channel, error: (e as Error).message };
        if (failedOnce) s.logger.debug('desktop notification not delivered', fields);
        else s.logger.info('desktop notification not delivered', fields);
        failedOnce = true;
      },
    );
  };
  const onApproval = (id: string) => {
    if (announced.has(id)) return;
    const a = s.approvals.get(id);
    if (a?.status !== 'pending') return;
    announced.add(id);
    if (announced.size > REMEMBER) announced.delete(announced.values().next().value!);
    send('approval', id, approvalNotice(a, { command, consoleUrl: s.console?.url }));
  };
  const onEvent = (e: { type: string; id?: string; status?: string }) => {
    if (e.type !== 'operation' || e.status !== 'pending' || !e.id) return;
    const op = s.operations.get(e.id);
    if (op) send('operation', op.id, operationNotice(op, { command, consoleUrl: s.console?.url }));
  };
  s.approvals.changed.on('change', onApproval);
  s.events.on('event', onEvent);
  s.logger.info('desktop notifications on', { channel: notifier.channel });
  return () => {
    s.approvals.changed.off('change', onApproval);
    s.events.off('event', onEvent);
  };
}

/**
 * The CLI command as it works where the person reads it: `briefcase` when that name on the PATH is
 * this CLI, else node and the script's absolute path; `--home` when the data directory is not the
 * default one.
 */
export function commandHint(home: string, env: NodeJS.ProcessEnv): string {
  const script = process.argv[1];
  let cmd = 'briefcase';
  if (script && !onPathIs('briefcase', script, env.PATH ?? '')) cmd = `${quote(process.execPath)} ${quote(script)}`;
  return resolveHome(undefined, { ...env, BRIEFCASE_HOME: undefined }) === home ? cmd : `${cmd} --home ${quote(home)}`;
}

function onPathIs(name: string, script: string, path: string): boolean {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      const candidate = join(dir, name);
      accessSync(candidate, constants.X_OK);
      return realpathSync(candidate) === realpathSync(script);
    } catch {
      // not here
    }
  }
  return false;
}

function quote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
