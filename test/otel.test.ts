import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { sandboxAvailable } from '@briefcase/sandbox';
import {
  ROOT,
  cli,
  cliAsync,
  freePort,
  remoteState,
  sleep,
  startDaemon,
  stdioClient,
  tempHome,
  writeJson,
  type DaemonProcess,
} from './helpers.ts';

const TRACE_SERVER = join(ROOT, 'test/fixtures/trace-mcp-server.ts');
/** Sandboxed where bubblewrap works (Debian package: bubblewrap), else added unsandboxed. */
const UNSANDBOXED = sandboxAvailable().ok ? [] : ['--isolation', 'none'];

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}
interface Received {
  path: string;
  body: Buffer;
}

/** The spans in OTLP/JSON trace payloads, each with its resource's service.name. */
function spansOf(received: Received[]): (OtlpSpan & { service: string })[] {
  const out: (OtlpSpan & { service: string })[] = [];
  for (const r of received.filter((x) => x.path === '/v1/traces')) {
    const doc = JSON.parse(r.body.toString('utf8')) as {
      resourceSpans: {
        resource: { attributes: { key: string; value: { stringValue?: string } }[] };
        scopeSpans: { spans: OtlpSpan[] }[];
      }[];
    };
    for (const rs of doc.resourceSpans) {
      const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
      for (const ss of rs.scopeSpans) for (const s of ss.spans) out.push({ ...s, service });
    }
  }
  return out;
}

function metricNames(received: Received[]): Set<string> {
  const names = new Set<string>();
  for (const r of received.filter((x) => x.path === '/v1/metrics')) {
    const doc = JSON.parse(r.body.toString('utf8')) as {
      resourceMetrics: { scopeMetrics: { metrics: { name: string }[] }[] }[];
    };
    for (const rm of doc.resourceMetrics)
      for (const sm of rm.scopeMetrics) for (const m of sm.metrics) names.add(m.name);
  }
  return names;
}

const attr = (s: OtlpSpan, key: string) => s.attributes?.find((a) => a.key === key)?.value;

/**
 * Issue 11 AC4, NFR-6: one call through the real gateway and daemon to an HTTP connector,
 * exported by OTLP/HTTP (JSON) to a receiver in this test: one trace from the gateway through
 * every pipeline stage to the upstream request, `traceparent` seen by the upstream, metrics
 * exported, and neither the secret nor an argument value anywhere in what was exported.
 */
describe('OpenTelemetry: one trace per call, no secret or argument value (issue 11 AC4, NFR-6)', () => {
  const { home, cleanup } = tempHome();
  const secret = `otel-secret-${randomBytes(12).toString('hex')}`;
  const argValue = `otel-arg-${randomBytes(12).toString('hex')}`;
  const received: Received[] = [];
  const upstreamSaw: { traceparent: string | undefined; key: string | undefined }[] = [];
  let collector: Server;
  let upstream: Server;
  let daemon: DaemonProcess;
  let client: Client;
  let env: Record<string, string>;
  let httpServer: ChildProcess;
  /** What each remote's `trace` tool saw, by server. */
  const remoteSaw: Record<string, { meta: string | null; header: string | null }> = {};
  let spans: (OtlpSpan & { service: string })[] = [];
  /** The spans of the trace whose gateway span is `tools/call TOOL`. */
  const traceOf = (tool: string) => {
    const gateway = spans.find((s) => s.name === `tools/call ${tool}`);
    assert.ok(gateway, `no gateway span for ${tool} among ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
    return { gateway, all: spans.filter((s) => s.traceId === gateway.traceId) };
  };

  before(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const address = collector.address();
    const collectorPort = typeof address === 'object' && address ? address.port : 0;
    upstream = createServer((req, res) => {
      upstreamSaw.push({
        traceparent: req.headers.traceparent as string | undefined,
        key: req.headers['x-api-key'] as string | undefined,
      });
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'x-cost': '7' }).end('{"ok":1}'));
    });
    const port = await freePort();
    await new Promise<void>((r) => upstream.listen(port, '127.0.0.1', r));
    assert.equal(cli(home, ['init']).code, 0);
    writeJson(join(home, 'connectors', 'otel-echo.json'), {
      kind: 'http',
      name: 'otel.echo',
      description: 'An upstream that records the trace context it was sent',
      category: 'read',
      input_schema: {
        type: 'object',
        properties: { q: { type: 'string' } },
        required: ['q'],
        additionalProperties: false,
      },
      request: {
        method: 'POST',
        url: `http://127.0.0.1:${port}/search?q={q}`,
        headers: { 'X-Api-Key': '{{secret:otel_key}}' },
        body_args: ['q'],
      },
      egress: [`127.0.0.1:${port}`],
      cost: { estimate: 0, currency: 'USD', actual_header: 'x-cost' },
    });
    env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    daemon = await startDaemon(home, [], env);
    assert.equal(cli(home, ['secrets', 'set', 'otel_key'], `${secret}\n`).code, 0);
    // Remote MCP servers that report the trace context their calls came with.
    const httpPort = await freePort();
    httpServer = spawn(process.execPath, [TRACE_SERVER, '--http', String(httpPort)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await new Promise<void>((r) => httpServer.stdout?.once('data', () => r()));
    for (const args of [
      ['tstdio', ...UNSANDBOXED, '--allow-read', ROOT, '--stdio', '--', process.execPath, TRACE_SERVER],
      ['thttp', '--url', `http://127.0.0.1:${httpPort}/mcp`],
    ]) {
      const added = await cliAsync(home, ['remote', 'add', ...args]);
      assert.equal(added.code, 0, added.stderr);
    }
    for (const name of ['tstdio', 'thttp'])
      for (let i = 0; i < 200 && (await remoteState(home, name))?.status !== 'connected'; i++) await sleep(100);
    client = await stdioClient(home, [], env);
  });
  after(async () => {
    await client?.close();
    await daemon?.stop();
    upstream?.close();
    httpServer?.kill();
    collector?.close();
    cleanup();
  });

  it('exports one trace from the gateway through the pipeline stages to the upstream request', async () => {
    const r = await client.callTool({ name: 'otel.echo', arguments: { q: argValue } });
    assert.notEqual(r.isError, true, JSON.stringify(r));
    assert.equal(upstreamSaw.length, 1);
    assert.equal(upstreamSaw[0]!.key, secret, 'the upstream got the secret: the canary is live');
    for (const server of ['tstdio', 'thttp']) {
      const t = await client.callTool({ name: `${server}.trace`, arguments: {} });
      assert.notEqual(t.isError, true, JSON.stringify(t));
      remoteSaw[server] = JSON.parse((t.content as { text: string }[])[0]!.text) as { meta: string; header: string };
    }
    // The gateway flushes when its stdin closes, the daemon when it stops.
    await client.close();
    await daemon.stop();

    const deadline = Date.now() + 30_000;
    const complete = () =>
      ['otel.echo', 'tstdio.trace', 'thttp.trace'].every((t) => spans.some((s) => s.name === `tools/call ${t}`)) &&
      spans.filter((s) => s.name === 'briefcase.receipt').length >= 3;
    spans = spansOf(received);
    while (Date.now() < deadline && !complete()) {
      await sleep(100);
      spans = spansOf(received);
    }
    const { gateway, all } = traceOf('otel.echo');
    assert.equal(gateway.service, 'briefcase-mcp-gateway');
    const traceId = gateway.traceId;
    const call = all.find((s) => s.name === 'briefcase.call otel.echo');
    assert.ok(call, 'the daemon call span is in the gateway trace');
    assert.equal(call.service, 'briefcased');
    const toDaemon = all.find((s) => s.spanId === call.parentSpanId);
    assert.ok(toDaemon && toDaemon.parentSpanId === gateway.spanId, 'daemon call ← gateway client span ← gateway span');
    assert.equal(attr(call, 'briefcase.outcome')?.stringValue, 'ok');
    for (const stage of ['validate', 'policy', 'budget_approval', 'execute', 'firewall', 'receipt']) {
      const st = all.find((x) => x.name === `briefcase.${stage}`);
      assert.ok(st, `stage span ${stage}`);
      assert.equal(st.parentSpanId, call.spanId, `${stage} is a child of the call`);
    }
    const execute = all.find((s) => s.name === 'briefcase.execute')!;
    const http = all.find((s) => s.name === 'HTTP POST');
    assert.ok(http, 'upstream request span');
    assert.equal(http.parentSpanId, execute.spanId, 'the upstream request is part of execution');
    assert.equal(attr(http, 'http.response.status_code')?.intValue, 200);

    // The upstream saw the trace (W3C traceparent: version-traceid-spanid-flags).
    const tp = upstreamSaw[0]!.traceparent;
    assert.match(tp ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    assert.equal(tp!.split('-')[1], traceId);
    assert.equal(tp!.split('-')[2], http.spanId);
  });

  it('propagates the trace to remote MCP servers: _meta.traceparent (stdio, HTTP) and the HTTP header', () => {
    for (const server of ['tstdio', 'thttp']) {
      const { all } = traceOf(`${server}.trace`);
      const request = all.find((s) => s.name === 'MCP tools/call');
      assert.ok(request, `${server}: the request to the server is a span of the call's trace`);
      const seen = remoteSaw[server]!;
      assert.equal(seen.meta, `00-${request.traceId}-${request.spanId}-01`, `${server}: _meta.traceparent`);
      if (server === 'thttp') {
        assert.equal(seen.header, seen.meta, 'the HTTP request carried the same traceparent header');
        assert.ok(attr(request, 'server.port')?.intValue, 'host and port of an HTTP server are recorded');
      } else assert.equal(seen.header, null);
    }
  });

  it('exports the call metrics: calls by outcome, latency, spend, approvals waiting', async () => {
    const deadline = Date.now() + 30_000;
    const want = [
      'briefcase.tool_calls',
      'briefcase.tool_call.duration',
      'briefcase.spend',
      'briefcase.approvals.waiting',
    ];
    let names = metricNames(received);
    while (Date.now() < deadline && !want.every((n) => names.has(n))) {
      await sleep(100);
      names = metricNames(received);
    }
    for (const n of want) assert.ok(names.has(n), `metric ${n} in ${[...names].join(', ')}`);
    const metrics = received.filter((x) => x.path === '/v1/metrics').map((x) => x.body.toString('utf8'));
    assert.ok(metrics.some((m) => m.includes('"briefcase.outcome"') && m.includes('"ok"')));
  });

  it('exports neither the secret nor the argument value, in any encoding', () => {
    assert.ok(received.length > 0);
    for (const { path, body } of received) {
      for (const canary of [secret, argValue]) {
        for (const form of [
          canary,
          Buffer.from(canary).toString('hex'),
          Buffer.from(canary).toString('base64').replace(/=+$/, ''),
          encodeURIComponent(canary),
        ]) {
          assert.ok(!body.includes(form), `${path} carries ${canary === secret ? 'the secret' : 'the argument value'}`);
        }
      }
    }
  });
});
