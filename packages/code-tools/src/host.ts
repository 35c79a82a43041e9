import { type AccessManifest } from '@briefcase/protocol';
import { grantAllows } from './grants.ts';
import { KV_LIMITS, type KvStore } from './kv.ts';

/** `{{secret:NAME}}` in a header value: NAME is a key of the manifest's `access.secrets`. */
const SECRET_TEMPLATE = /\{\{secret:([A-Za-z0-9_.-]{1,64})\}\}/g;
const HAS_SECRET = /\{\{secret:/;

/** Largest response body handed to the code, and largest request body it may send. */
export const HTTP_LIMITS = { responseBytes: 1024 * 1024, requestBytes: 256 * 1024, calls: 32 } as const;

export interface EgressRulesLike {
  grants: string[];
  allowPrivate: boolean;
  deny?: string[];
}

/** What the daemon lends a code tool for one call; the code reaches nothing else. */
export interface HostDeps {
  access: AccessManifest;
  kv: KvStore;
  /** A vault secret's value by its vault name; the daemon remembers it for the output firewall. */
  secret(vaultName: string): string;
  /** Remove every vault value (and its encodings) from text the code is about to see. */
  scrub(text: string): string;
  /** The daemon's egress (`checkedFetch` of @briefcase/egress): checks every hop against `rules`. */
  fetch(url: URL, init: RequestInit & { rules: EgressRulesLike }): Promise<Response>;
  signal: AbortSignal;
  /** `address:port` the egress refuses whatever is granted: the daemon's own listeners. */
  egressDeny?: string[] | undefined;
  onProgress?:
    ((p: { progress: number; total?: number | undefined; message?: string | undefined }) => void) | undefined;
  onLog?: ((entry: { level: string; logger?: string | undefined; data: unknown }) => void) | undefined;
  /**
   * The daemon's payment step, lent only to a tool whose manifest declares `cost.payments`: a
   * 402 from a granted host is checked, paid and the same request repeated once with the proof
   * (whose headers the code never sees). Absent: the code gets the 402.
   */
  pay?: HostPay | undefined;
}

/** A 402 as the payment step reads it (the Challenge of @briefcase/payments, structurally). */
export interface HostChallenge {
  url: string;
  status: number;
  headers: Readonly<Record<string, string>>;
  body?: string;
}

export type HostPay = <T>(
  challenge: HostChallenge,
  retry: (
    proof: Readonly<Record<string, string>>,
  ) => Promise<{ response: { status: number; headers: Readonly<Record<string, string>> }; value: T }>,
) => Promise<T>;

/** A host call the grant does not cover: the code sees `message`, the call fails as sandbox_violation. */
export class HostRefusal extends Error {
  override readonly name = 'HostRefusal';
}

export interface HttpRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The host functions of a code tool, checked against its grant. The first call outside the
 * grant is remembered (`violation`, naming what was refused, never a secret value), refused to
 * the code with a clear error, and every later http or kv call is refused too (log and progress
 * reach nothing): the call fails closed whatever the code does next.
 */
export class Host {
  readonly #d: HostDeps;
  #violation: string | undefined;
  /** A payment that was refused or waits for a person: it ends the call, whatever the code does. */
  #paymentStop: Error | undefined;
  #httpCalls = 0;

  constructor(deps: HostDeps) {
    this.#d = deps;
  }

  get violation(): string | undefined {
    return this.#violation;
  }

  get paymentStop(): Error | undefined {
    return this.#paymentStop;
  }

  #refuse(reason: string): never {
    this.#violation ??= reason;
    throw new HostRefusal(`refused by the Briefcase: ${reason}`);
  }

  #guard(): void {
    if (this.#paymentStop) throw new HostRefusal('refused by the Briefcase: a payment this call needs was not made');
    if (this.#violation) throw new HostRefusal(`refused by the Briefcase: an earlier host call was refused`);
  }

  async http(input: unknown): Promise<HttpReply> {
    this.#guard();
    const req = parseRequest(input);
    if (typeof req === 'string') throw new Error(`host.http: ${req}`);
    const a = this.#d.access;
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw new Error('host.http: url is not an absolute URL');
    }
    if (!grantAllows(url, a.network)) this.#refuse(`network access to ${url.host} is not granted`);
    if (++this.#httpCalls > HTTP_LIMITS.calls) this.#refuse(`more than ${HTTP_LIMITS.calls} HTTP requests in one call`);
    if (HAS_SECRET.test(req.url) || HAS_SECRET.test(req.body ?? '')) {
      this.#refuse('secrets may only be injected in header values');
    }
    if (Buffer.byteLength(req.body ?? '') > HTTP_LIMITS.requestBytes) {
      throw new Error(`host.http: the request body is larger than ${HTTP_LIMITS.requestBytes} bytes`);
    }
    const headers = new Headers();
    const injected: string[] = [];
    for (const [name, template] of Object.entries(req.headers ?? {})) {
      const value = template.replace(SECRET_TEMPLATE, (_, alias: string) => {
        const vaultName = Object.hasOwn(a.secrets, alias) ? a.secrets[alias] : undefined;
        if (vaultName === undefined) this.#refuse(`the secret "${alias}" is not granted`);
        const secret = this.#d.secret(vaultName);
        injected.push(secret);
        return secret;
      });
      try {
        headers.set(name, value);
      } catch {
        throw new Error(`host.http: header ${JSON.stringify(name)} is not a valid header`);
      }
    }
    const send = async (proof?: Readonly<Record<string, string>>): Promise<{ response: Response; body: string }> => {
      const sent = new Headers(headers);
      for (const [k, v] of Object.entries(proof ?? {})) sent.set(k, v);
      let response: Response;
      try {
        response = await this.#d.fetch(url, {
          method: req.method ?? 'GET',
          headers: sent,
          ...(req.body !== undefined ? { body: req.body } : {}),
          redirect: 'manual',
          signal: this.#d.signal,
          rules: { grants: a.network, allowPrivate: a.allow_private, deny: this.#d.egressDeny ?? [] },
        });
      } catch (e) {
        if (isEgressViolation(e)) {
          const detail = (e as { detail?: unknown }).detail;
          this.#refuse(typeof detail === 'string' ? detail : `network access refused: ${(e as Error).message}`);
        }
        throw new Error(`host.http: ${url.host} could not be reached`, { cause: e });
      }
      return { response, body: await readCapped(response) };
    };
    let { response, body } = await send();
    const pay = this.#d.pay;
    if (response.status === 402 && pay) {
      try {
        ({ response, body } = await pay(
          { url: url.href, status: 402, headers: lower(response.headers), body: body.slice(0, 65_536) },
          async (proof) => {
            const answer = await send(proof);
            return {
              response: { status: answer.response.status, headers: lower(answer.response.headers) },
              value: answer,
            };
          },
        ));
      } catch (e) {
        if (e instanceof HostRefusal) throw e;
        this.#paymentStop = e as Error;
        throw new HostRefusal('refused by the Briefcase: the payment this request asks for was not made');
      }
    }
    const scrub = (text: string) => this.#d.scrub(injected.reduce((t, v) => t.split(v).join('[redacted]'), text));
    return {
      status: response.status,
      headers: Object.fromEntries([...response.headers].map(([k, v]) => [k, scrub(v)])),
      body: scrub(body),
    };
  }

  kvGet(key: unknown): string | null {
    this.#guard();
    return this.#d.kv.get(checkKey(key));
  }

  kvSet(key: unknown, value: unknown): void {
    this.#guard();
    const k = checkKey(key);
    if (value !== null && typeof value !== 'string') throw new Error('kv.set: the value must be a string or null');
    if (value !== null && Buffer.byteLength(value) > KV_LIMITS.valueBytes) {
      this.#refuse(`a key-value entry larger than ${KV_LIMITS.valueBytes} bytes`);
    }
    const size = this.#d.kv.sizeWith(k, value);
    if (size.bytes > KV_LIMITS.totalBytes || size.keys > KV_LIMITS.keys) {
      this.#refuse(`the key-value store would exceed ${KV_LIMITS.totalBytes} bytes or ${KV_LIMITS.keys} keys`);
    }
    this.#d.kv.set(k, value);
  }

  progress(progress: unknown, total?: unknown, message?: unknown): void {
    if (typeof progress !== 'number' || !Number.isFinite(progress)) return;
    this.#d.onProgress?.({
      progress,
      ...(typeof total === 'number' && Number.isFinite(total) ? { total } : {}),
      ...(typeof message === 'string' ? { message: message.slice(0, 500) } : {}),
    });
  }

  log(level: unknown, data: unknown): void {
    const text = typeof data === 'string' ? data : JSON.stringify(data);
    this.#d.onLog?.({
      level: typeof level === 'string' && LEVELS.has(level) ? level : 'info',
      logger: 'code-tool',
      data: this.#d.scrub(String(text).slice(0, 4000)),
    });
  }
}

function lower(h: Headers): Record<string, string> {
  return Object.fromEntries([...h].map(([k, v]) => [k.toLowerCase(), v]));
}

const LEVELS = new Set(['debug', 'info', 'notice', 'warning', 'error']);

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > KV_LIMITS.keyChars) {
    throw new Error(`kv: a key is a string of 1-${KV_LIMITS.keyChars} characters`);
  }
  return key;
}

function parseRequest(input: unknown): HttpRequest | string {
  if (input === null || typeof input !== 'object') return 'the request is an object { url, method?, headers?, body? }';
  const r = input as Record<string, unknown>;
  if (typeof r.url !== 'string') return 'url must be a string';
  if (r.method !== undefined && (typeof r.method !== 'string' || !/^[A-Z]{3,7}$/.test(r.method)))
    return 'method must be an upper-case HTTP method';
  if (r.body !== undefined && typeof r.body !== 'string') return 'body must be a string';
  if (r.headers !== undefined) {
    if (r.headers === null || typeof r.headers !== 'object') return 'headers must be an object of strings';
    if (!Object.values(r.headers).every((v) => typeof v === 'string')) return 'header values must be strings';
  }
  return r as unknown as HttpRequest;
}

/** An EgressViolation of @briefcase/egress, recognised by name so this package need not import it. */
function isEgressViolation(e: unknown): boolean {
  return e instanceof Error && (e.name === 'EgressViolation' || e.constructor.name === 'EgressViolation');
}

async function readCapped(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > HTTP_LIMITS.responseBytes) {
      await reader.cancel();
      throw new Error(`host.http: the response is larger than ${HTTP_LIMITS.responseBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
