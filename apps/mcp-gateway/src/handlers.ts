import type { CallToolResult, ListToolsResult } from '@modelcontextprotocol/sdk/types.js';
import { BriefcaseError } from '@briefcase/protocol/errors';
import type { ToolCallResponse } from '@briefcase/protocol';
import { NOOP_TELEMETRY, type Logger, type Telemetry } from '@briefcase/telemetry';
import type { DaemonClient, DaemonEvent, LogMessage, ProgressUpdate } from './daemon-client.ts';
import { nonFiniteNumberPath } from './finite.ts';
import { ProgressRelay } from './progress-relay.ts';

export const GATEWAY_NAME = 'briefcase';
export const GATEWAY_VERSION = '0.1.0';
export const GATEWAY_INSTRUCTIONS =
  'Tools here run through the Briefcase: secrets stay in the Briefcase, some calls need a person to approve them, and every call is receipted.';
/** Both transports declare the same: lists change (list-watch.ts), and the agent may set a log level. */
export const GATEWAY_CAPABILITIES = {
  tools: { listChanged: true },
  resources: { listChanged: true },
  prompts: { listChanged: true },
  logging: {},
};
/** How long one long-poll for an approval lasts; progress is reported between polls. */
const POLL_MS = 5_000;

export interface GatewayOptions {
  /** Cap on how long a call is held open for an approval (the daemon proposes, this caps). */
  maxApprovalWaitMs?: number;
  pollMs?: number;
  /** Traces (off unless OTEL_* variables ask for them): the daemon's spans join the call's trace. */
  telemetry?: Telemetry;
}

/** What one tools/call may do towards its agent while it runs. */
export interface CallContext {
  signal: AbortSignal;
  /** Set when the agent asked for progress (`_meta.progressToken`). */
  progress: ((update: ProgressUpdate) => Promise<void>) | undefined;
  log: (message: LogMessage) => Promise<void>;
}

export interface GatewayHandlers {
  listTools(): Promise<ListToolsResult>;
  callTool(name: string, args: Record<string, unknown>, ctx: CallContext): Promise<CallToolResult>;
}

/**
 * What the gateway does, whatever MCP transport carries it (stdio-server.ts, or the SDK's server
 * for Streamable HTTP in server.ts). It holds the agent token only, proxies tools/list and
 * tools/call to the daemon, and holds a call open while an approval is pending (with progress
 * notifications when the client asked for them). It never sees a secret and logs no arguments.
 */
export function gatewayHandlers(client: DaemonClient, logger: Logger, options: GatewayOptions = {}): GatewayHandlers {
  const listTools = async (): Promise<ListToolsResult> => {
    const { tools } = await client.listTools();
    return {
      tools: tools.map((t) => ({
        name: t.name,
        ...(t.title ? { title: t.title } : {}),
        description: t.description,
        inputSchema: t.inputSchema as { type: 'object'; [k: string]: unknown },
        ...(t.outputSchema ? { outputSchema: t.outputSchema as { type: 'object'; [k: string]: unknown } } : {}),
        ...(t.annotations ? { annotations: t.annotations } : {}),
      })),
    };
  };

  const callTool = async (name: string, args: Record<string, unknown>, ctx: CallContext): Promise<CallToolResult> => {
    const relay = ctx.progress === undefined ? undefined : new ProgressRelay(ctx.progress);
    // Everything a running tool reports: progress (under the agent's token) and log messages.
    // Sent in order, and all of them before the result: a notification that overtook its
    // result would be dropped by the client, whose progress handler ends with the request.
    let sent: Promise<unknown> = Promise.resolve();
    const onEvent = (e: DaemonEvent) => {
      sent = sent.then(() => (e.type === 'progress' ? relay?.forward(e) : ctx.log(e.log))).catch(() => undefined);
    };
    const started = Date.now();
    const span = (options.telemetry ?? NOOP_TELEMETRY).startCall('gateway');
    // Each request to the daemon is a client span whose traceparent the daemon continues.
    const callDaemon = (): Promise<ToolCallResponse> => {
      const out = span.outbound('briefcased tools/call');
      return client.callTool(name, args, ctx.signal, onEvent, out.traceparent).finally(() => out.end());
    };
    const infinite = nonFiniteNumberPath(args);
    if (infinite !== null) {
      logger.info('tool call refused at the gateway', { tool: name.slice(0, 128), code: 'invalid_args' });
      span.end('invalid_args');
      return errorResult(
        'invalid_args',
        `argument ${infinite.slice(0, 200)} is a number too large for JSON (beyond ±1.8e308): send a smaller number or a string`,
      );
    }
    let response: ToolCallResponse;
    try {
      response = await callDaemon();
      if (!response.ok && response.error.code === 'approval_required' && response.error.approval) {
        response = await waitForApproval(client, name, callDaemon, response, {
          signal: ctx.signal,
          maxWaitMs: options.maxApprovalWaitMs ?? Number.POSITIVE_INFINITY,
          pollMs: options.pollMs ?? POLL_MS,
          relay,
        });
      }
    } catch (e) {
      const error =
        e instanceof BriefcaseError
          ? e
          : new BriefcaseError('unavailable', 'the Briefcase daemon could not be reached');
      logger.warn('tool call failed', { tool: name.slice(0, 128), code: error.code, ms: Date.now() - started });
      span.end(error.code);
      return errorResult(error.code, error.message);
    }
    await sent;
    const outcome = response.ok ? (response.result.isError ? 'tool_error' : 'ok') : response.error.code;
    // A name the daemon does not know is the agent's text, not a tool: it stays out of the trace.
    if (outcome !== 'unknown_tool') span.setTool(name.slice(0, 128));
    span.end(outcome, response.receipt_id);
    (response.ok ? logger.debug : logger.info).call(logger, 'tool call', {
      tool: name.slice(0, 128),
      outcome: response.ok ? 'ok' : response.error.code,
      receipt: response.receipt_id,
      ms: Date.now() - started,
    });
    if (!response.ok)
      return errorResult(
        response.error.code,
        response.error.message,
        response.receipt_id,
        response.error.approval?.approval_id,
      );
    return {
      ...response.result,
      _meta: {
        'dev.briefcase/receipt': response.receipt_id,
        'dev.briefcase/origin': response.origin,
        ...(response.payment ? { 'dev.briefcase/payment': response.payment } : {}),
      },
    } as CallToolResult;
  };

  return { listTools, callTool };
}

interface WaitOptions {
  signal: AbortSignal;
  maxWaitMs: number;
  pollMs: number;
  relay: ProgressRelay | undefined;
}

/** Hold the call while a person decides; retry the identical call once it is approved. */
async function waitForApproval(
  client: DaemonClient,
  name: string,
  retry: () => Promise<ToolCallResponse>,
  pending: Extract<ToolCallResponse, { ok: false }>,
  o: WaitOptions,
): Promise<ToolCallResponse> {
  const approval = pending.error.approval!;
  const deadline = Date.now() + Math.min(approval.wait_ms, o.maxWaitMs);
  const started = Date.now();
  while (Date.now() < deadline && !o.signal.aborted) {
    await o.relay?.forward({
      progress: Math.round((Date.now() - started) / 1000),
      message: `Waiting for a person to approve ${name}: \`${approval.approve_command}\``,
    });
    const { status } = await client.approvalStatus(
      approval.approval_id,
      Math.min(o.pollMs, deadline - Date.now()),
      o.signal,
    );
    if (status === 'approved' || status === 'consumed') {
      o.relay?.phase();
      return retry();
    }
    if (status === 'rejected') {
      return {
        ok: false,
        receipt_id: pending.receipt_id,
        error: {
          code: 'approval_rejected',
          message: `A person rejected this call to ${name} (approval ${approval.approval_id}). Do not retry it unchanged.`,
        },
      };
    }
    if (status === 'expired') {
      return {
        ok: false,
        receipt_id: pending.receipt_id,
        error: {
          code: 'approval_required',
          message: `The approval for this call to ${name} expired before anyone approved it. Calling again asks for a new approval.`,
        },
      };
    }
  }
  return pending;
}

function errorResult(code: string, message: string, receiptId?: string | null, approvalId?: string): CallToolResult {
  return {
    content: [{ type: 'text', text: `${message} [${code}]` }],
    isError: true,
    _meta: {
      'dev.briefcase/error': { code, ...(approvalId ? { approval_id: approvalId } : {}) },
      ...(receiptId ? { 'dev.briefcase/receipt': receiptId } : {}),
    },
  };
}
