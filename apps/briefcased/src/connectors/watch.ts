import { mkdirSync, watch, type FSWatcher } from 'node:fs';
import type { Logger } from '@briefcase/telemetry';

/** Changes usually arrive in bursts (an editor writes, renames, chmods): settle, then rescan once. */
const SETTLE_MS = 150;
/** A rescan this often as well: fs.watch may miss events (network filesystems, some editors). */
const RESCAN_MS = 5_000;

/** Watch connectors/ and call `rescan` after changes; stop() ends it. */
export function watchConnectors(dir: string, rescan: () => void, logger: Logger): { stop(): void } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let timer: NodeJS.Timeout | undefined;
  const run = () => {
    timer = undefined;
    try {
      rescan();
    } catch (e) {
      logger.error('connector rescan failed; the previous connectors keep serving', { error: e });
    }
  };
  const soon = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, SETTLE_MS);
    timer.unref();
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { persistent: false }, soon);
    watcher.on('error', (e) => logger.warn('connector directory watch failed; rescanning periodically', { error: e }));
  } catch (e) {
    logger.warn('cannot watch the connector directory; rescanning periodically', { dir, error: e });
  }
  const poll = setInterval(run, RESCAN_MS);
  poll.unref();
  return {
    stop() {
      watcher?.close();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    },
  };
}
