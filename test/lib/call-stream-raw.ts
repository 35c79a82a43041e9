import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** A raw call-stream connection to the daemon: the upgrade written by hand, then JSON lines. */
export class RawStream {
  readonly frames: Array<{
    id: number | null;
    event?: unknown;
    response?: unknown;
    error?: { code: string; message: string };
  }> = [];
  readonly closed: Promise<void>;
  #buffer = '';
  // A character split across two reads is decoded whole.
  readonly #decoder = new StringDecoder('utf8');
  #waiters: Array<() => void> = [];
  readonly socket: Socket;
  readonly status: number;
  constructor(socket: Socket, status: number, rest: string) {
    this.socket = socket;
    this.status = status;
    this.closed = new Promise((r) => socket.once('close', () => r()));
    socket.on('data', (c: Buffer) => this.#take(this.#decoder.write(c)));
    socket.on('close', () => this.#wake());
    this.#take(rest);
  }

  /** `home`: a data directory (its daemon.sock), or a socket path ending in `.sock`. */
  static open(home: string, path: string, headers: Record<string, string>): Promise<RawStream> {
    return new Promise((resolve, reject) => {
      const socket = connect(home.endsWith('.sock') ? home : join(home, 'daemon.sock'));
      let head = '';
      const onData = (c: Buffer) => {
        head += c.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        const status = Number(head.slice(9, 12));
        resolve(new RawStream(socket, status, status === 101 ? head.slice(end + 4) : ''));
      };
      socket.on('data', onData);
      socket.on('error', reject);
      const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
      socket.write(`GET ${path} HTTP/1.1\r\nhost: daemon\r\n${lines.join('')}\r\n`);
    });
  }

  send(frame: unknown): void {
    this.socket.write(`${typeof frame === 'string' ? frame : JSON.stringify(frame)}\n`);
  }

  /** Wait until `done(frames)` holds (or the stream closes, or 10 s pass). */
  async until(done: (frames: RawStream['frames']) => boolean): Promise<RawStream['frames']> {
    const deadline = Date.now() + 10_000;
    while (!done(this.frames) && !this.socket.destroyed && Date.now() < deadline) {
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 200);
      });
    }
    return this.frames;
  }

  #take(text: string): void {
    this.#buffer += text;
    for (let nl = this.#buffer.indexOf('\n'); nl >= 0; nl = this.#buffer.indexOf('\n')) {
      this.frames.push(JSON.parse(this.#buffer.slice(0, nl)) as RawStream['frames'][number]);
      this.#buffer = this.#buffer.slice(nl + 1);
    }
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** The upgrade headers of a call stream, with the bearer token when given. */
export const upgrade = (bearer?: string) => ({
  connection: 'Upgrade',
  upgrade: 'briefcase-calls/1',
  ...(bearer !== undefined ? { authorization: `Bearer ${bearer}` } : {}),
});
