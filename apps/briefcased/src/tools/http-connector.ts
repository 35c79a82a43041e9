import { checkedFetch } from '@briefcase/egress';
import {
  BriefcaseError,
  connectorAccess,
  SECRET_REF,
  type AccessManifest,
  type HttpConnectorManifest,
} from '@briefcase/protocol';
import { egressAllowed } from './egress.ts';
import { textResult, type Tool, type ToolContext, type ToolOutput } from './tool.ts';

const PLACEHOLDER = /\{([A-Za-z0-9_]+)\}/g;

/**
 * A declarative HTTP connector: validated arguments become one HTTP request. Secrets are
 * referenced by name in headers and injected only here, as the request leaves the daemon; they
 * never appear in the URL, and redirects are not followed (a redirect could leave the allowlist).
 * The request goes through the egress rules (@briefcase/egress) with the connector's access
 * manifest (`access.network` plus the deprecated `egress` list, `access.allow_private`): a
 * loopback or private address is reached only when a grant names that IP literal and port, or
 * with `allow_private`; metadata addresses never are, and a redirect toward a target the rules
 * refuse is `sandbox_violation`.
 */
export class HttpConnectorTool implements Tool {
  readonly descriptor: Tool['descriptor'];
  readonly server = 'briefcase';
  readonly tags: string[];
  readonly sensitiveArgs: string[];
  readonly reads: string | null;
  readonly changes: string | null;
  readonly currency: string;
  readonly #manifest: HttpConnectorManifest;
  /** What it may reach, as the console and `approvals show` display it. */
  readonly access: AccessManifest;

  constructor(manifest: HttpConnectorManifest) {
    this.#manifest = manifest;
    this.access = connectorAccess(manifest);
    this.descriptor = {
      name: manifest.name,
      ...(manifest.title ? { title: manifest.title } : {}),
      description: manifest.description,
      category: manifest.category,
      origin: 'http',
      inputSchema: manifest.input_schema,
      annotations: { readOnlyHint: manifest.category === 'read', openWorldHint: true },
    };
    this.tags = manifest.tags;
    this.sensitiveArgs = manifest.sensitive_args;
    this.reads = manifest.reads ?? null;
    this.changes = manifest.changes ?? null;
    this.currency = manifest.cost.currency;
  }

  /** Load-time checks that a schema cannot express; errors name the field. */
  static check(manifest: HttpConnectorManifest): string[] {
    const problems: string[] = [];
    if (SECRET_REF.test(manifest.request.url)) problems.push('request.url: secrets may only be referenced in headers');
    SECRET_REF.lastIndex = 0;
    const props = (manifest.input_schema.properties ?? {}) as Record<string, unknown>;
    for (const m of manifest.request.url.matchAll(PLACEHOLDER)) {
      if (!(m[1]! in props)) problems.push(`request.url: {${m[1]}} is not an argument in input_schema.properties`);
    }
    for (const name of manifest.request.body_args ?? []) {
      if (!(name in props)) problems.push(`request.body_args: "${name}" is not an argument in input_schema.properties`);
    }
    for (const name of manifest.sensitive_args) {
      if (!(name in props)) problems.push(`sensitive_args: "${name}" is not an argument in input_schema.properties`);
    }
    if (manifest.input_schema.type !== 'object') problems.push('input_schema.type: must be "object"');
    const access = connectorAccess(manifest);
    // Grants a connector cannot use are refused, not ignored: the person should see what it can do.
    if (manifest.access?.isolation === 'none')
      problems.push('access.isolation: a connector has no process to leave unsandboxed');
    if (access.filesystem.length > 0) problems.push('access.filesystem: a connector has no filesystem');
    if (access.env.length > 0) problems.push('access.env: a connector has no environment');
    if (manifest.access) {
      // With an access manifest, every secret the headers name is listed in it.
      const listed = new Set(Object.values(access.secrets));
      for (const template of Object.values(manifest.request.headers)) {
        for (const m of template.matchAll(SECRET_REF)) {
          if (!listed.has(m[1]!)) problems.push(`request.headers: secret "${m[1]}" is not listed in access.secrets`);
        }
      }
    }
    try {
      const url = new URL(manifest.request.url.replace(PLACEHOLDER, 'x'));
      if (!egressAllowed(url, access.network)) {
        problems.push(`request.url: host ${url.host} is not in the connector's access.network (its egress allowlist)`);
      }
    } catch {
      problems.push('request.url: not a valid absolute URL');
    }
    return problems;
  }

  estimateCost(): number {
    return this.#manifest.cost.estimate;
  }

  paymentEstimate(offer: { network: string; asset: string }): bigint {
    const declared = this.#manifest.cost.payments?.find(
      (p) => p.network === offer.network && p.asset.toLowerCase() === offer.asset,
    );
    return declared ? BigInt(declared.max) : 0n;
  }

  paymentDecimals(offer: { network: string; asset: string }): number | undefined {
    return this.#manifest.cost.payments?.find(
      (p) => p.network === offer.network && p.asset.toLowerCase() === offer.asset,
    )?.decimals;
  }

  /** request.timeout_ms, and with an access manifest its `limits.call_ms`: the lower wins. */
  #timeoutMs(): number {
    const m = this.#manifest;
    return m.access ? Math.min(m.request.timeout_ms, m.access.limits.call_ms) : m.request.timeout_ms;
  }

  async execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput> {
    const m = this.#manifest;
    const url = requestUrl(m.request.url, args);
    if (!egressAllowed(url, this.access.network)) {
      throw new BriefcaseError(
        'sandbox_violation',
        'the request was blocked by the egress allowlist',
        `host ${url.host}`,
      );
    }
    const headers = new Headers();
    for (const [name, template] of Object.entries(m.request.headers)) {
      headers.set(
        name,
        template.replace(SECRET_REF, (_, secretName: string) => ctx.secret(secretName).expose()),
      );
    }
    let body: string | undefined;
    if (m.request.body_args && m.request.method !== 'GET' && m.request.method !== 'DELETE') {
      body = JSON.stringify(Object.fromEntries(m.request.body_args.filter((k) => k in args).map((k) => [k, args[k]])));
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    }
    // W3C Trace Context for the upstream (set last: a manifest cannot override it).
    const send = async (
      extra: Readonly<Record<string, string>> = {},
    ): Promise<{ response: Response; text: string }> => {
      const h = new Headers(headers);
      for (const [name, value] of Object.entries(extra)) h.set(name, value);
      const span = ctx.outbound?.(`HTTP ${m.request.method}`, {
        host: url.hostname,
        port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
      });
      if (span?.traceparent) h.set('traceparent', span.traceparent);
      let response: Response;
      try {
        response = await checkedFetch(url, {
          rules: { grants: this.access.network, allowPrivate: this.access.allow_private },
          method: m.request.method,
          headers: h,
          ...(body !== undefined ? { body } : {}),
          redirect: 'manual',
          signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(this.#timeoutMs())]),
        });
      } catch (e) {
        span?.end(undefined, true);
        if (e instanceof BriefcaseError) throw e; // EgressViolation: sandbox_violation, host and port in the receipt
        const reason = (e as Error).name === 'TimeoutError' ? 'timed out' : 'could not be reached';
        throw new BriefcaseError('upstream_error', `the upstream API ${reason}`, (e as Error).message);
      }
      span?.end(response.status);
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel();
        throw new BriefcaseError(
          'upstream_error',
          `the upstream API answered with a redirect (${response.status}), which is not followed`,
        );
      }
      return { response, text: await readCapped(response, m.max_response_bytes) };
    };
    // A paid L402 token for this service is tried first; refused (401/402), it is forgotten and
    // the request goes out bare, so a revoked token leads to one new payment (docs/payments-l402.md).
    const paid = ctx.paidCredential?.get(url.href);
    let { response, text } = await send(paid);
    if (paid && (response.status === 401 || response.status === 402)) {
      ctx.paidCredential?.refused(url.href, paid);
      ({ response, text } = await send());
    }
    if (response.status === 402 && ctx.pay) {
      // The payment step (docs/payments.md): the daemon checks, pays and repeats this same
      // request once with the proof; the proof headers never reach the result.
      ({ response, text } = await ctx.pay(
        { url: url.href, status: 402, headers: lowerHeaders(response.headers), body: text.slice(0, 65_536) },
        async (proof) => {
          const answer = await send(proof);
          return {
            response: { status: answer.response.status, headers: lowerHeaders(answer.response.headers) },
            value: answer,
          };
        },
      ));
    }
    const actualCost = m.cost.actual_header ? parseCost(response.headers.get(m.cost.actual_header)) : undefined;
    if (!response.ok) {
      return { result: textResult(`upstream API error ${response.status}: ${text}`, true), actualCost };
    }
    return { result: resultFromBody(text, response.headers.get('content-type')), actualCost };
  }
}

/**
 * The request URL from the template and the arguments. Values are percent-encoded, so they
 * cannot add `/`, `?`, `#`, `@` or `\`; but `.` and `..` survive encoding, and the URL parser
 * (WHATWG URL, path state) resolves them as dot segments: `/repos/{repo}/issues` with
 * repo=".." would climb to `/issues` on the allowed host, secret attached. So a path placeholder
 * may not be a dot segment, no segment of the final path may be one, and, in depth, the parsed
 * path must still start with the template's fixed part before its first placeholder.
 */
export function requestUrl(template: string, args: Record<string, unknown>): URL {
  const pathEnd = pathEndOf(template);
  const text = template.replace(PLACEHOLDER, (whole, name: string, at: number) => {
    const value = encodeURIComponent(argText(args[name]));
    if (at < pathEnd && (value === '.' || value === '..')) {
      throw new BriefcaseError(
        'invalid_args',
        `argument ${name} may not be "${value}": in the URL path it would change which resource is requested`,
      );
    }
    return value;
  });
  const path =
    text
      .slice(text.indexOf('//') + 2)
      .replace(/^[^/?#]*/, '')
      .split(/[?#]/, 1)[0] ?? '';
  if (path.split('/').some((segment) => DOT_SEGMENT.test(segment))) {
    throw new BriefcaseError('invalid_args', 'the arguments would put a "." or ".." segment in the URL path');
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BriefcaseError('invalid_args', 'the arguments do not make a valid URL for this tool');
  }
  const fixed = fixedPath(template);
  if (fixed && !(fixed.exact ? url.pathname === fixed.path : url.pathname.startsWith(fixed.path))) {
    throw new BriefcaseError(
      'sandbox_violation',
      'the request was blocked: its URL path left the path the tool is defined for',
      `path ${url.pathname} is outside ${fixed.path}`,
    );
  }
  return url;
}

/** `.`/`..`, also percent-encoded (WHATWG URL: "single-dot" and "double-dot" URL path segments). */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/** Where the template's path ends (its query or fragment starts): placeholders after it are not in the path. */
function pathEndOf(template: string): number {
  const afterScheme = template.indexOf('//') + 2;
  const end = template.slice(afterScheme).search(/[?#]/);
  return end === -1 ? template.length : afterScheme + end;
}

/** The path before the first placeholder; exact when every placeholder is after the path. */
function fixedPath(template: string): { path: string; exact: boolean } | null {
  const first = template.search(PLACEHOLDER_START);
  if (first === -1) return null;
  try {
    const exact = first >= pathEndOf(template);
    const prefix = new URL(template.slice(0, exact ? pathEndOf(template) : first));
    return { path: prefix.pathname, exact };
  } catch {
    return null; // the placeholder is in the host: the egress allowlist decides
  }
}

const PLACEHOLDER_START = /\{[A-Za-z0-9_]+\}/;

function lowerHeaders(headers: Headers): Record<string, string> {
  return Object.fromEntries([...headers].map(([k, v]) => [k.toLowerCase(), v]));
}

function argText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function parseCost(header: string | null): number | undefined {
  if (header === null || !/^\d{1,15}$/.test(header.trim())) return undefined;
  return Number(header.trim());
}

function resultFromBody(text: string, contentType: string | null): ToolOutput['result'] {
  if (contentType?.includes('json')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return { content: [{ type: 'text', text }], structuredContent: parsed as Record<string, unknown> };
      }
    } catch {
      // Not JSON after all: plain text below.
    }
  }
  return { content: [{ type: 'text', text }] };
}

async function readCapped(response: Response, max: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new BriefcaseError('upstream_error', `the upstream response is larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
