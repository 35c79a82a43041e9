import { Transform, type TransformCallback } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { errorMessage, inspectText } from './jsonrpc-check.ts';

/**
 * Splits the agent's byte stream into newline-delimited messages and checks each before anything
 * else sees it: an oversized line, a line that is not JSON, JSON nested too deep, or JSON that is
 * not a valid JSON-RPC 2.0 message for MCP (including a request whose id is null) is dropped and
 * answered with the JSON-RPC error the spec names (-32600 / -32700), so every line gets exactly
 * one outcome, the agent gets a clear error and the gateway keeps running. A valid message goes
 * on already parsed: it is parsed and checked once, here, not again by a transport.
 */
export class LineFramer {
  readonly #max: number;
  readonly #reply: (message: string) => void;
  readonly #deliver: (message: JSONRPCMessage, line: string) => void;
  #parts: Buffer[] = [];
  #size = 0;
  #overflow = false;

  constructor(
    maxBytes: number,
    reply: (message: string) => void,
    deliver: (message: JSONRPCMessage, line: string) => void,
  ) {
    this.#max = maxBytes;
    this.#reply = reply;
    this.#deliver = deliver;
  }

  write(chunk: Buffer): void {
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
  }

  #endLine(): void {
    if (this.#overflow) {
      this.#reply(`${errorMessage(null, -32600, `message larger than ${this.#max} bytes: not processed`)}\n`);
    } else {
      // One piece (the usual case: a whole message in one chunk) needs no copy.
      const whole = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
      const line = whole.toString('utf8');
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
    this.#deliver(checked.message, line);
  }
}

/** LineFramer as a stream: passes each valid line on as it came (the framing property tests). */
export class LineGuard extends Transform {
  readonly #framer: LineFramer;

  constructor(maxBytes: number, reply: (message: string) => void) {
    super();
    this.#framer = new LineFramer(maxBytes, reply, (_message, line) => this.push(`${line}\n`));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#framer.write(chunk);
    done();
  }
}
