/**
 * Bytes received in pieces, copied into one buffer that grows by doubling. Kept as the chunks they
 * came in, a body or a line sent a byte per read cost ~250 bytes of the daemon's memory per byte
 * (a Buffer object each): 800 KB sent slowly held 132 MiB (test/attacks/call-stream-memory.test.ts,
 * test/attacks/slow-body.test.ts).
 */
export class ByteBuffer {
  #bytes = Buffer.alloc(0);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  append(piece: Buffer): void {
    if (this.#length + piece.length > this.#bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#bytes.length * 2, this.#length + piece.length, 4096));
      this.#bytes.copy(grown, 0, 0, this.#length);
      this.#bytes = grown;
    }
    piece.copy(this.#bytes, this.#length);
    this.#length += piece.length;
  }

  /** What was appended, followed by `tail`; the buffer is empty afterwards. */
  take(tail?: Buffer): Buffer {
    const out =
      this.#length === 0
        ? (tail ?? Buffer.alloc(0))
        : Buffer.concat([this.#bytes.subarray(0, this.#length), ...(tail ? [tail] : [])]);
    this.#bytes = Buffer.alloc(0);
    this.#length = 0;
    return out;
  }
}
