import { NodeSDK, api, core, resources } from '@opentelemetry/sdk-node';
import type { CallSpan, OutboundSpan, PipelineStage, Telemetry } from '../tracing.ts';

/**
 * The OpenTelemetry side of `Telemetry`, loaded only when OTEL_* variables ask for export
 * (tracing.ts). NodeSDK reads the standard variables itself: OTEL_EXPORTER_OTLP_ENDPOINT and
 * the per-signal endpoints, OTEL_EXPORTER_OTLP_PROTOCOL (http/protobuf by default, http/json,
 * grpc), OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER, OTEL_METRIC_EXPORT_INTERVAL,
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME.
 */
const { trace, metrics, SpanKind, SpanStatusCode, ROOT_CONTEXT, defaultTextMapGetter, defaultTextMapSetter } = api;
type Context = api.Context;
type Span = api.Span;
type Tracer = api.Tracer;

/** Always W3C Trace Context, whatever OTEL_PROPAGATORS says: `traceparent` is what we promise. */
const w3c = new core.W3CTraceContextPropagator();

/** Milliseconds; a call through the Briefcase is usually well under 10 ms, an approval minutes. */
const DURATION_BOUNDS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 60_000, 600_000];

export function startOtel(serviceName: string): Telemetry {
  const sdk = new NodeSDK({
    serviceName,
    // Not the process detector: it exports the command line, which is nobody else's business.
    resourceDetectors: [resources.envDetector, resources.hostDetector],
    instrumentations: [],
    // Our logs are files (docs/observability.md); OpenTelemetry logs are not exported.
    logRecordProcessors: [],
  });
  sdk.start();
  const tracer = trace.getTracer('briefcase', '0.1.0');
  const meter = metrics.getMeter('briefcase', '0.1.0');
  const calls = meter.createCounter('briefcase.tool_calls', {
    description: 'Tool calls by tool and outcome code',
    unit: '{call}',
  });
  const duration = meter.createHistogram('briefcase.tool_call.duration', {
    description: 'Time from a call reaching the daemon to its receipt being durable',
    unit: 'ms',
    advice: { explicitBucketBoundaries: DURATION_BOUNDS },
  });
  const spend = meter.createCounter('briefcase.spend', {
    description: 'Spend settled for tool calls, in the minor units of the currency',
    unit: '{minor_unit}',
  });
  const waiting = meter.createObservableGauge('briefcase.approvals.waiting', {
    description: 'Approvals waiting for a person',
    unit: '{approval}',
  });
  return {
    enabled: true,
    startCall: (kind, parent) => new OtelCallSpan(tracer, kind, parent),
    recordCall(tool, outcome, ms) {
      calls.add(1, { 'briefcase.tool': tool, 'briefcase.outcome': outcome });
      duration.record(ms, { 'briefcase.tool': tool, 'briefcase.outcome': outcome });
    },
    recordSpend(tool, currency, amount) {
      if (amount > 0) spend.add(amount, { 'briefcase.tool': tool, 'briefcase.currency': currency });
    },
    observeApprovalsWaiting(count) {
      waiting.addCallback((r) => r.observe(count()));
    },
    // An unreachable collector must not stop the daemon or the gateway from shutting down.
    shutdown: () => sdk.shutdown().catch(() => undefined),
  };
}

class OtelCallSpan implements CallSpan {
  readonly #tracer: Tracer;
  readonly #kind: 'gateway' | 'daemon';
  readonly #span: Span;
  readonly #ctx: Context;
  #stage: { span: Span; ctx: Context } | undefined;

  constructor(tracer: Tracer, kind: 'gateway' | 'daemon', parent: string | undefined) {
    this.#tracer = tracer;
    this.#kind = kind;
    const parentCtx = parent ? w3c.extract(ROOT_CONTEXT, { traceparent: parent }, defaultTextMapGetter) : ROOT_CONTEXT;
    this.#span = tracer.startSpan(
      kind === 'gateway' ? 'tools/call' : 'briefcase.call',
      { kind: SpanKind.SERVER, attributes: { 'mcp.method.name': 'tools/call' } },
      parentCtx,
    );
    this.#ctx = trace.setSpan(parentCtx, this.#span);
  }

  setTool(tool: string): void {
    this.#span.setAttribute('gen_ai.tool.name', tool);
    this.#span.updateName(`${this.#kind === 'gateway' ? 'tools/call' : 'briefcase.call'} ${tool}`);
  }

  stage(name: PipelineStage): void {
    this.#stage?.span.end();
    const span = this.#tracer.startSpan(`briefcase.${name}`, { attributes: { 'briefcase.stage': name } }, this.#ctx);
    this.#stage = { span, ctx: trace.setSpan(this.#ctx, span) };
  }

  outbound(name: string, target?: { host: string; port: number }): OutboundSpan {
    const parent = this.#stage?.ctx ?? this.#ctx;
    const span = this.#tracer.startSpan(
      name,
      {
        kind: SpanKind.CLIENT,
        ...(target ? { attributes: { 'server.address': target.host, 'server.port': target.port } } : {}),
      },
      parent,
    );
    const carrier: Record<string, string> = {};
    w3c.inject(trace.setSpan(parent, span), carrier, defaultTextMapSetter);
    return {
      traceparent: carrier.traceparent,
      end(status?: number, failed?: boolean) {
        if (status !== undefined) span.setAttribute('http.response.status_code', status);
        if (failed || (status !== undefined && status >= 500)) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      },
    };
  }

  end(outcome: string, receiptId?: string | null): void {
    this.#stage?.span.end();
    this.#stage = undefined;
    this.#span.setAttribute('briefcase.outcome', outcome);
    if (receiptId) this.#span.setAttribute('briefcase.receipt_id', receiptId);
    if (outcome !== 'ok') this.#span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    this.#span.end();
  }
}
