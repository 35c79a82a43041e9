import type { ApprovalView } from '@briefcase/protocol';
import { API_PATHS } from '@briefcase/protocol/api-paths';
import { BriefcaseError } from '@briefcase/protocol/errors';
import type { AdminClient } from '../client.ts';
import { screen } from '../output.ts';
import {
  move,
  parseKeys,
  POLL_MS,
  renderWatch,
  select,
  selectedApproval,
  selectionSettled,
  type Key,
  type WatchState,
} from '../watch-screen.ts';

/**
 * `briefcase approvals watch`: the waiting approvals, live (a poll every POLL_MS over the admin
 * socket), approved or rejected with a key. A presence- or signer-tier approval is not approved
 * here: the daemon refuses, and its answer (with the console link) is shown. Raw mode and the
 * alternate screen are undone on every way out: q, Ctrl-C, SIGTERM, SIGHUP, an error.
 */
export async function approvalsWatch(c: AdminClient): Promise<void> {
  const { stdin, stdout } = process;
  if (!stdin.isTTY || !stdout.isTTY) {
    throw new BriefcaseError(
      'bad_request',
      '`approvals watch` needs a terminal (stdin and stdout); use `approvals list` and `approvals approve <id>` in scripts',
    );
  }
  const state: WatchState = {
    approvals: [],
    selected: undefined,
    selectedSince: 0,
    message: '',
    offline: undefined,
    updatedAt: undefined,
  };
  let busy = false;
  let timer: NodeJS.Timeout | undefined;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));

  const draw = () => {
    const { width, height } = screen.size();
    screen.draw(renderWatch(state, width, height));
  };
  let stopped = false;
  let inFlight: Promise<void> | undefined;
  /** One poll at a time; each schedules the next, so there is exactly one timer chain. */
  const poll = (): Promise<void> => {
    inFlight ??= (async () => {
      clearTimeout(timer);
      try {
        const { approvals } = await c.get<{ approvals: ApprovalView[] }>(`${API_PATHS.adminApprovals}?status=pending`);
        state.approvals = approvals;
        state.offline = undefined;
        select(state, selectedApproval(state)?.id, Date.now());
      } catch (e) {
        state.offline = (e as Error).message;
      }
      if (stopped) return;
      state.updatedAt = new Date();
      draw();
      clearTimeout(timer);
      timer = setTimeout(() => void poll(), POLL_MS);
    })().finally(() => (inFlight = undefined));
    return inFlight;
  };
  const decide = async (decision: 'approve' | 'reject') => {
    const a = selectedApproval(state);
    if (!a || busy) return;
    if (!selectionSettled(state, Date.now())) {
      state.message = `The selection just changed to ${a.id} (${a.tool}): read it, then press ${decision === 'approve' ? 'a' : 'r'} again.`;
      return draw();
    }
    busy = true;
    state.message = `${decision === 'approve' ? 'Approving' : 'Rejecting'} ${a.id} (${a.tool})…`;
    draw();
    try {
      await c.post(`${API_PATHS.adminApprovals}/${encodeURIComponent(a.id)}/${decision}`);
      state.message =
        decision === 'approve'
          ? `Approved ${a.id} (${a.tool}): the identical call can now run once (a waiting agent's call goes on).`
          : `Rejected ${a.id} (${a.tool}).`;
    } catch (e) {
      state.message = (e as Error).message;
    } finally {
      busy = false;
    }
    await poll();
  };
  const onKey = (key: Key) => {
    if (key === 'quit') return finish();
    if (key === 'up' || key === 'down') {
      select(state, move(state, key === 'up' ? -1 : 1), Date.now());
      return draw();
    }
    if (key === 'refresh') return void poll();
    void decide(key);
  };
  const onData = (buf: Buffer) => {
    for (const key of parseKeys(buf.toString('utf8'))) onKey(key);
  };

  const restore = () => {
    stopped = true;
    clearTimeout(timer);
    stdin.off('data', onData);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    screen.leave();
  };
  const signals = ['SIGTERM', 'SIGHUP', 'SIGINT'] as const;
  for (const s of signals) process.once(s, finish);
  process.once('exit', restore);
  stdout.on('resize', draw);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.on('data', onData);
  screen.enter();
  try {
    await poll();
    await done;
  } finally {
    for (const s of signals) process.off(s, finish);
    process.off('exit', restore);
    stdout.off('resize', draw);
    restore();
  }
}
