import { closeSync, openSync, writeSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Field names whose values are never logged, whatever their type. */
const SENSITIVE_KEY = /pass(word|phrase)?|secret|token|authori[sz]ation|cookie|api[-_]?key|private|credential/i;

export type LogFields = Record<string, unknown>;

/** Replaces known secret values (and their encodings) in a finished line; set by the daemon. */
export type LineScrubber = (line: string) => string;

export interface LoggerOptions {
  component: string;
  level?: LogLevel;
  /** Append JSON lines to this file (created 0600). */
  file?: string;
  /** Also write to stderr (foreground runs). */
  stderr?: boolean;
  scrubber?: LineScrubber;
}

/**
 * Structured JSON logger, redacted by construction: values pass through `safeValue`, which
 * drops sensitive keys, renders errors as {name, code, message} only, and relies on `Secret`
 * rendering itself as "[redacted]". A line scrubber catches anything that slipped through.
 */
export class Logger {
  readonly #component: string;
  readonly #min: number;
  readonly #fd: number | undefined;
  readonly #stderr: boolean;
  #scrubber: LineScrubber | undefined;
  readonly #bindings: LogFields;

  constructor(options: LoggerOptions, bindings: LogFields = {}, fd?: number) {
    this.#component = options.component;
    this.#min = LEVELS[options.level ?? 'info'];
    this.#stderr = options.stderr ?? false;
    this.#scrubber = options.scrubber;
    this.#bindings = bindings;
    this.#fd = fd ?? (options.file ? openSync(options.file, 'a', 0o600) : undefined);
  }

  setScrubber(scrubber: LineScrubber): void {
    this.#scrubber = scrubber;
  }

  child(bindings: LogFields): Logger {
    const child = new Logger(
      {
        component: this.#component,
        level: levelName(this.#min),
        stderr: this.#stderr,
        ...(this.#scrubber ? { scrubber: this.#scrubber } : {}),
      },
      { ...this.#bindings, ...bindings },
      this.#fd,
    );
    return child;
  }

  debug(msg: string, fields?: LogFields): void {
    this.#write('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#write('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#write('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.#write('error', msg, fields);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
  }

  #write(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (LEVELS[level] < this.#min) return;
    const record = {
      ts: new Date().toISOString(),
      level,
      component: this.#component,
      msg,
      ...(safeValue({ ...this.#bindings, ...fields }, 0, this.#scrubber) as LogFields),
    };
    let line = JSON.stringify(record);
    if (this.#scrubber) line = this.#scrubber(line);
    line = `${escapeInvisible(line)}\n`;
    if (this.#fd !== undefined) writeSync(this.#fd, line);
    if (this.#stderr) process.stderr.write(line);
  }
}

/**
 * Log lines are read in terminals (`briefcase start` in the foreground, `tail -f`): a control,
 * bidi or other invisible character that an agent or a remote server put in a logged value is
 * written as its JSON escape, so the line parses to the same value but cannot move the cursor,
 * reorder text or hide part of itself. JSON.stringify already escapes C0; this adds DEL, C1,
 * format characters (Cf: bidi controls, zero-width, BOM, tags) and the line/paragraph separators.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

export function escapeInvisible(line: string): string {
  return line.replace(INVISIBLE, (c) => {
    let out = '';
    // An astral character (a tag character, say) is written as its two UTF-16 escapes.
    for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}

function levelName(n: number): LogLevel {
  return (Object.keys(LEVELS) as LogLevel[]).find((k) => LEVELS[k] === n) ?? 'info';
}

function safeValue(value: unknown, depth: number, scrub?: LineScrubber): unknown {
  if (depth > 6) return '[depth]';
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => safeValue(v, depth + 1, scrub));
  if (value !== null && typeof value === 'object') {
    // A value that renders itself (Secret) decides its own form.
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SENSITIVE_KEY.test(k) ? '[redacted]' : safeValue(v, depth + 1, scrub);
    }
    return out;
  }
  // Scrubbed before it is cut: a cut through a secret would leave a part the line scrub misses.
  if (typeof value === 'string' && value.length > 2000) {
    const whole = scrub ? scrub(value) : value;
    return whole.length > 2000 ? `${whole.slice(0, 2000)}…` : whole;
  }
  return value;
}
