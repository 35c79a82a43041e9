import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { cliCommand, homeArgsFor } from '@briefcase/protocol/invocation';
import { join } from 'node:path';
import { serverLogFile, type DataPaths } from '@briefcase/briefcased/paths';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { print } from '../output.ts';
import { oneLine } from '../safe-text.ts';

export interface LogsFlags {
  follow?: boolean;
  server?: string;
  lines?: string;
  /** The daemon log's JSON lines as written, instead of the readable form. */
  raw?: boolean;
}

const SERVER_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const POLL_MS = 250;

/**
 * `briefcase logs [-f] [--server NAME] [-n N]`: the last lines of the daemon log, or of a stdio
 * server's stderr log; `-f` keeps printing what is appended, across rotations.
 */
export async function logs(paths: DataPaths, o: LogsFlags): Promise<void> {
  const n = o.lines === undefined ? 50 : Number(o.lines);
  if (!Number.isInteger(n) || n < 0 || n > 100_000) {
    throw new BriefcaseError('bad_request', `-n ${o.lines}: give a whole number of lines from 0 to 100000`);
  }
  let file: string;
  if (o.server !== undefined) {
    if (!SERVER_NAME.test(o.server)) {
      throw new BriefcaseError(
        'bad_request',
        `--server ${oneLine(o.server)}: not a server name (1-32 characters of a-z 0-9 _ -); see \`${cliCommand(...homeArgsFor(paths.home), 'remote', 'list')}\``,
      );
    }
    file = serverLogFile(paths.home, o.server);
  } else file = join(paths.logs, 'daemon.log');
  const show = o.server !== undefined || o.raw ? (line: string) => line : readable;
  if (!existsSync(file) && !o.follow) {
    throw new BriefcaseError(
      'not_found',
      o.server !== undefined
        ? `no log for ${o.server} at ${file}: a stdio server's stderr is logged once it has started (HTTP servers have none)`
        : `no daemon log at ${file}: start the daemon with \`${cliCommand(...homeArgsFor(paths.home), 'start')}\``,
    );
  }
  let position = 0;
  let inode = -1;
  if (existsSync(file)) {
    const { lines, size, ino } = tail(file, n);
    for (const line of lines) print(show(line));
    position = size;
    inode = ino;
  }
  if (!o.follow) return;
  await follow(file, position, inode, (line) => print(show(line)));
}

/** The last `n` lines of a file, read backwards in blocks (a daemon log can be large). */
function tail(file: string, n: number): { lines: string[]; size: number; ino: number } {
  const fd = openSync(file, 'r');
  try {
    const { size, ino } = fstatSync(fd);
    let start = size;
    let text = '';
    while (start > 0 && text.split('\n').length <= n + 1) {
      const length = Math.min(64 * 1024, start);
      start -= length;
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, start);
      text = buffer.toString('utf8') + text;
    }
    const lines = text.split('\n').filter((l) => l !== '');
    return { lines: n === 0 ? [] : lines.slice(-n), size, ino };
  } finally {
    closeSync(fd);
  }
}

/**
 * Print lines appended from `position` on, until interrupted. A rotated file (another inode at
 * the path, or a shorter file) is read again from its start.
 */
async function follow(file: string, position: number, inode: number, onLine: (line: string) => void): Promise<void> {
  let partial = '';
  for (;;) {
    let stat;
    try {
      stat = statSync(file);
    } catch {
      stat = undefined; // Rotated away and not yet recreated.
    }
    if (stat) {
      if (stat.ino !== inode || stat.size < position) {
        inode = stat.ino;
        position = 0;
        partial = '';
      }
      if (stat.size > position) {
        const fd = openSync(file, 'r');
        try {
          const buffer = Buffer.alloc(Math.min(stat.size - position, 4 * 1024 * 1024));
          const read = readSync(fd, buffer, 0, buffer.length, position);
          position += read;
          partial += buffer.subarray(0, read).toString('utf8');
        } finally {
          closeSync(fd);
        }
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line !== '') onLine(line);
      }
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** A daemon log line as `time level message key=value …`; a line that is not JSON as it is. */
function readable(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { ts, level, component: _component, msg, ...fields } = record;
  const rest = Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return oneLine(`${String(ts)} ${String(level).padEnd(5)} ${String(msg)}${rest ? `  ${rest}` : ''}`);
}
