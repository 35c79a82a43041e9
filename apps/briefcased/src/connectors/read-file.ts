import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

export type ConnectorRead = { ok: true; bytes: Buffer } | { ok: false; reason: string };

/**
 * Read one connector file as the daemon may: a regular file in connectors/ itself, never through
 * a symbolic link, at most `max` bytes. Someone who can write the data directory but not the
 * person's other files could otherwise link a private file in (the daemon runs as the person, and
 * JSON.parse quotes the start of what it read in its error, which goes to the receipt and the log),
 * or swap in a FIFO or a device between a stat and a read and block the event loop. So the file is
 * opened once (O_NOFOLLOW: a link fails with ELOOP; O_NONBLOCK: a FIFO does not wait for a writer)
 * and everything after is asked of that descriptor: what it is, and its bytes, read with a bound.
 */
export function readConnectorFile(path: string, max: number): ConnectorRead {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') {
      return {
        ok: false,
        reason: `${path}: a symbolic link: connectors are read only from regular files in connectors/`,
      };
    }
    return { ok: false, reason: `${path}: cannot be read (${code ?? 'error'})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, reason: `${path}: not a regular file` };
    if (st.size > max) return { ok: false, reason: `${path}: larger than ${max} bytes` };
    // The size can change after fstat (a writer appending): read at most max + 1 bytes, whatever it says.
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > max) return { ok: false, reason: `${path}: larger than ${max} bytes` };
    }
    return { ok: true, bytes: buf.subarray(0, n) };
  } catch (e) {
    return { ok: false, reason: `${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
  } finally {
    closeSync(fd);
  }
}
