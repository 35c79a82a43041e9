import { Transform, type TransformCallback } from 'node:stream';
import { errorMessage, inspectText } from './jsonrpc-check.ts';

/**
 * Sits between stdin and the SDK's stdio transport. Each newline-delimited message is checked
 * before the SDK sees it: an oversized line, a line that is not JSON, JSON nested too deep, or
 * JSON that is not a valid JSON-RPC 2.0 message for MCP (including a request whose id is null)
 * is dropped and answered with the JSON-RPC error the spec names (-32600 / -32700), so every
 * line gets exactly one outcome, the agent gets a clear error and the gateway keeps running.
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
      this.#reply(`${errorMessage(null, -32600, `message larger than ${this.#max} bytes: not processed`)}\n`);
    } else {
      const line = Buffer.concat(this.#parts).toString('utf8');
      if (line.trim() !== '') this.#check(line);
    }
    this.#parts = [];
    this.#size = 0;
    this.#overflow = false;
  }

  #check(line: string): void {
    const checked = inspectText(line);
    if (!checked.ok) {
      this.#reply(`${errorMessage(checked.id, checked.code, checked.reason)}\n`);
      return;
    }
    this.push(`${line}\n`);
  }
}
