/**
 * Chromium's native messaging framing, both ways: a 32-bit length in native byte order (little
 * endian on every platform Chromium ships for) followed by that many bytes of UTF-8 JSON.
 * https://developer.chrome.com/docs/extensions/develop/concepts/native-messaging#native-messaging-host-protocol
 */

/** Chromium refuses a host message over 1 MB; ours are a few hundred bytes. */
export const MAX_OUTGOING = 1024 * 1024;
/** What the extension may send us. Every request is a few dozen bytes; anything big is not ours. */
export const MAX_INCOMING = 4 * 1024;

export type FrameErrorCode = 'too_large' | 'bad_json' | 'truncated';

export class FrameError extends Error {
  readonly code: FrameErrorCode;
  constructor(code: FrameErrorCode, message: string) {
    super(message);
    this.name = 'FrameError';
    this.code = code;
  }
}

export function encodeFrame(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  if (body.length > MAX_OUTGOING) throw new FrameError('too_large', `a ${body.length}-byte message is over 1 MB`);
  const header = Buffer.alloc(4);
  header.writeUInt32LE(body.length, 0);
  return Buffer.concat([header, body]);
}

export type FrameEvent = { kind: 'message'; value: unknown } | { kind: 'error'; error: FrameError };

/**
 * Turns a byte stream into messages. After an error the stream cannot be trusted to be in step
 * (a bad length means we no longer know where the next frame starts), so the reader stops and
 * reports nothing more; the host then answers once and exits.
 */
export class FrameReader {
  readonly #max: number;
  #buffer: Buffer = Buffer.alloc(0);
  #failed = false;

  constructor(max = MAX_INCOMING) {
    this.#max = max;
  }

  push(chunk: Buffer): FrameEvent[] {
    if (this.#failed) return [];
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const events: FrameEvent[] = [];
    while (this.#buffer.length >= 4) {
      const length = this.#buffer.readUInt32LE(0);
      if (length > this.#max) return this.#fail(events, 'too_large', `a ${length}-byte message is over ${this.#max}`);
      if (this.#buffer.length < 4 + length) break;
      const body = this.#buffer.subarray(4, 4 + length);
      this.#buffer = this.#buffer.subarray(4 + length);
      let value: unknown;
      try {
        value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
      } catch {
        return this.#fail(events, 'bad_json', 'a message is not UTF-8 JSON');
      }
      events.push({ kind: 'message', value });
    }
    return events;
  }

  /** At the end of the input: a partial frame left over is an error (the sender stopped mid-message). */
  end(): FrameEvent[] {
    if (this.#failed || this.#buffer.length === 0) return [];
    return this.#fail([], 'truncated', 'the input ended inside a message');
  }

  #fail(events: FrameEvent[], code: FrameErrorCode, message: string): FrameEvent[] {
    this.#failed = true;
    this.#buffer = Buffer.alloc(0);
    events.push({ kind: 'error', error: new FrameError(code, message) });
    return events;
  }
}
