import { closeSync, constants, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { escapeInvisible } from './logger.ts';
import { redactTokenShapes } from './token-shapes.ts';

export interface ServerLogOptions {
  /** Rotate when the file would pass this size (bytes). */
  maxBytes?: number;
  /** Rotated files kept beside the current one: NAME.log.1 (newest) … NAME.log.KEEP. */
  keep?: number;
  /** Longer lines are cut (a server printing a megabyte on one line fills no disk). */
  maxLineChars?: number;
  /** Removes the vault's secret values (and encodings) from a line; runs before the cut. */
  scrub?: (text: string) => string;
}

/**
 * A remote stdio server's stderr, written to `logs/servers/NAME.log` (0600) for a person to read
 * with `briefcase logs --server NAME`, never to the agent. Each line is scrubbed of the vault's
 * secrets and of credential-shaped text, cut to a bounded length, stripped of terminal control
 * and invisible characters, and stamped with the time. Rotated by size.
 */
export class ServerLog {
  readonly file: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #maxLine: number;
  readonly #scrub: (text: string) => string;
  #fd: number | undefined;
  #size = 0;
  #partial = '';
  /** Dropping the rest of an over-long line, up to its newline. */
  #skipping = false;
  /** A character split between two chunks is decoded whole. */
  readonly #decoder = new StringDecoder('utf8');

  constructor(file: string, options: ServerLogOptions = {}) {
    this.file = file;
    this.#maxBytes = options.maxBytes ?? 1024 * 1024;
    this.#keep = options.keep ?? 3;
    this.#maxLine = options.maxLineChars ?? 2000;
    this.#scrub = options.scrub ?? ((t) => t);
  }

  /** A chunk of the stream: complete lines are written, the rest waits for its newline. */
  write(chunk: Buffer | string): void {
    let text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    while (text !== '') {
      const i = text.indexOf('\n');
      if (!this.#skipping) this.#partial += i >= 0 ? text.slice(0, i) : text;
      text = i >= 0 ? text.slice(i + 1) : '';
      if (i >= 0) {
        if (!this.#skipping) this.#line(this.#partial);
        this.#partial = '';
        this.#skipping = false;
      } else if (this.#partial.length > this.#maxLine * 4) {
        // A line with no end in sight: its start is written, the rest dropped up to its newline,
        // so neither memory nor the scrub's work grows with what a server prints.
        this.#line(this.#partial.slice(0, this.#maxLine * 4));
        this.#partial = '';
        this.#skipping = true;
      }
    }
  }

  /** Write what is left of an unfinished line and close the file. */
  close(): void {
    if (this.#partial) this.#line(this.#partial);
    this.#partial = '';
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  #line(raw: string): void {
    const text = raw.replace(/\r$/, '');
    if (text === '') return;
    // Scrubbed whole, then cut: a cut through a secret would leave a part no scrub recognises.
    let clean = redactTokenShapes(this.#scrub(text));
    if (clean.length > this.#maxLine) clean = `${clean.slice(0, this.#maxLine)}… [cut: ${clean.length} characters]`;
    const line = `${new Date().toISOString()} ${escapeInvisible(clean)}\n`;
    const bytes = Buffer.byteLength(line);
    this.#open();
    if (this.#size > 0 && this.#size + bytes > this.#maxBytes) this.#rotate();
    writeSync(this.#open(), line);
    this.#size += bytes;
  }

  #open(): number {
    if (this.#fd === undefined) {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      // Not through a symlink someone planted in the data directory.
      const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;
      this.#fd = openSync(this.file, flags, 0o600);
      this.#size = fstatSync(this.#fd).size;
    }
    return this.#fd;
  }

  /** NAME.log → NAME.log.1 → … → NAME.log.KEEP (the oldest is dropped). */
  #rotate(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    rmSync(`${this.file}.${this.#keep}`, { force: true });
    for (let n = this.#keep - 1; n >= 1; n--) {
      try {
        renameSync(`${this.file}.${n}`, `${this.file}.${n + 1}`);
      } catch {
        // Not there yet.
      }
    }
    renameSync(this.file, `${this.file}.1`);
  }
}
