import { Transform, type TransformCallback } from 'node:stream';

/**
 * Sits between stdin and the SDK's stdio transport. Each newline-delimited message is checked
 * before the SDK sees it: an oversized line, a line that is not JSON, or JSON that is not a
 * JSON-RPC 2.0 message is dropped and answered with the JSON-RPC error the spec names
 * (-32600 / -32700), so the agent gets a clear error and the gateway keeps running.
 */
export class LineGuard extends Transform {
  readonly #max: number;
  readonly #reply: (message: string) => void;
  #parts: Buffer[] = [];
  #size = 0;
  #overflow = false;

  constructor(maxBytes: number, reply: (message: string) => void) {
    super();
    this.#max = maxBytes;
    this.#reply = reply;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const piece = nl === -1 ? chunk.subarray(start) : chunk.subarray(start, nl);
      if (!this.#overflow) {
        this.#size += piece.length;
        if (this.#size > this.#max) {
          this.#overflow = true;
          this.#parts = [];
        } else this.#parts.push(piece);
      }
      if (nl === -1) break;
      this.#endLine();
      start = nl + 1;
    }
    done();
  }

  #endLine(): void {
    if (this.#overflow) {
      this.#error(null, -32600, `message larger than ${this.#max} bytes: not processed`);
    } else {
      const line = Buffer.concat(this.#parts).toString('utf8');
      if (line.trim() !== '') this.#check(line);
    }
    this.#parts = [];
    this.#size = 0;
    this.#overflow = false;
  }

  #check(line: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      this.#error(null, -32700, 'parse error: the message is not valid JSON');
      return;
    }
    const m = msg as { jsonrpc?: unknown; id?: unknown; method?: unknown; result?: unknown; error?: unknown };
    const id = typeof m?.id === 'string' || typeof m?.id === 'number' ? m.id : null;
    const valid =
      m !== null &&
      typeof m === 'object' &&
      !Array.isArray(m) &&
      m.jsonrpc === '2.0' &&
      (typeof m.method === 'string' || 'result' in m || 'error' in m);
    if (!valid) {
      this.#error(id, -32600, 'invalid request: expected a JSON-RPC 2.0 message with "jsonrpc":"2.0" and a method');
      return;
    }
    this.push(`${line}\n`);
  }

  #error(id: string | number | null, code: number, message: string): void {
    this.#reply(`${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n`);
  }
}
