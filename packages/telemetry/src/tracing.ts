import { otelRequested } from './otel-env.ts';

/**
 * Telemetry as the daemon and the gateway see it: spans for a tool call and its pipeline stages,
 * W3C `traceparent` strings to hand downstream, and the call metrics. `NOOP_TELEMETRY` is what
 * runs unless the standard OTEL_* variables ask for export (docs/observability.md); it costs a
 * few property reads per call, and the OpenTelemetry SDK is then never imported (issue 13: the
 * gateway stays a thin process).
 *
 * What may go into a span or a metric: tool names, outcome codes, stage names, receipt ids,
 * hosts and ports, HTTP status codes. Never an argument value, a URL path or query, a header,
 * or a result: nothing here takes such a value, so nothing can export one.
 */
export interface Telemetry {
  readonly enabled: boolean;
  /** A call's span: a child of `traceparent` (from the caller) or a new trace. */
  startCall(kind: 'gateway' | 'daemon', parent?: string | undefined): CallSpan;
  /** The counted outcome of a call (daemon side). */
  recordCall(tool: string, outcome: string, ms: number): void;
  /** Spend settled for a call, in the tool's minor units. */
  recordSpend(tool: string, currency: string, amount: number): void;
  /** Approvals waiting for a person, read when metrics are collected. */
  observeApprovalsWaiting(count: () => number): void;
  /** Flush what is buffered and stop exporting. */
  shutdown(): Promise<void>;
}

export interface CallSpan {
  /** Name the tool once it is known to exist (an unknown name from the agent is not recorded). */
  setTool(tool: string): void;
  /** Start the next pipeline stage (a child span); ends the stage before it. */
  stage(name: PipelineStage): void;
  /** A request leaving this process (to the daemon, an HTTP upstream or a remote MCP server). */
  outbound(name: string, target?: { host: string; port: number }): OutboundSpan;
  /** End the call (and its open stage) with its outcome code and receipt id. */
  end(outcome: string, receiptId?: string | null): void;
}

export interface OutboundSpan {
  /** The W3C traceparent to send with the request; undefined when telemetry is off. */
  readonly traceparent: string | undefined;
  end(status?: number, failed?: boolean): void;
}

export type PipelineStage = 'validate' | 'policy' | 'budget_approval' | 'execute' | 'firewall' | 'receipt';

const NOOP_OUTBOUND: OutboundSpan = { traceparent: undefined, end() {} };
const NOOP_SPAN: CallSpan = {
  setTool() {},
  stage() {},
  outbound: () => NOOP_OUTBOUND,
  end() {},
};

export const NOOP_TELEMETRY: Telemetry = {
  enabled: false,
  startCall: () => NOOP_SPAN,
  recordCall() {},
  recordSpend() {},
  observeApprovalsWaiting() {},
  shutdown: () => Promise.resolve(),
};

/**
 * Telemetry as the environment asks: NOOP_TELEMETRY unless an OTEL_* variable asks for export,
 * else the OpenTelemetry SDK, imported only now. `env` decides whether; the SDK then reads the
 * OTEL_* variables of process.env itself.
 */
export async function startTelemetry(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
  options: { stdoutIsProtocol?: boolean } = {},
): Promise<Telemetry> {
  if (!otelRequested(env)) return NOOP_TELEMETRY;
  if (options.stdoutIsProtocol) {
    const console = (['OTEL_TRACES_EXPORTER', 'OTEL_METRICS_EXPORTER'] as const).find((k) =>
      env[k]?.split(',').some((v) => v.trim() === 'console'),
    );
    if (console) {
      throw new Error(
        `${console}=console would write telemetry to stdout, which carries the MCP messages of \`briefcase mcp\`: use otlp (docs/observability.md)`,
      );
    }
  }
  const { startOtel } = await import('./otel/sdk.ts');
  return startOtel(serviceName);
}
