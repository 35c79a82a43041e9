import type { RemoteToolIdentity } from '@briefcase/crypto';
import type { AccessManifest, ToolDescriptor, ToolResult } from '@briefcase/protocol';
import type { Challenge, RetryResponse } from '@briefcase/payments';
import type { OutboundSpan } from '@briefcase/telemetry';
import type { Secret } from '@briefcase/vault';

/** What a tool may use while it runs; nothing else of the daemon is reachable from a tool. */
export interface ToolContext {
  signal: AbortSignal;
  /** Look up a vault secret by name; every secret looked up is remembered for the firewall. */
  secret(name: string): Secret;
  dataDir: string;
  /** Remove every vault value (and its encodings) from text a tool's code is about to see. */
  scrub?: ((text: string) => string) | undefined;
  /** Progress from a long-running tool, relayed to the agent when it asked for progress. */
  onProgress?: ((progress: ToolProgress) => void) | undefined;
  /** Log messages a remote server sends while the call runs (MCP notifications/message). */
  onLog?: ((entry: ToolLog) => void) | undefined;
  /**
   * The upstream answered 402: check, pay and retry once through the daemon's payment step
   * (docs/payments.md). Throws when the payment is refused; absent when payments are off.
   */
  pay?: (<T>(challenge: Challenge, retry: PaidRetry<T>) => Promise<T>) | undefined;
  /**
   * A proof of an earlier payment for this URL (a cached L402 token), to send on the first
   * request; `refused` when the upstream answers it with 401/402. Secret: never in a result.
   */
  paidCredential?:
    | {
        get(url: string): Readonly<Record<string, string>> | undefined;
        refused(url: string, headers: Readonly<Record<string, string>>): void;
      }
    | undefined;
  /**
   * A span for a request the tool sends upstream; its `traceparent` goes with the request
   * (undefined when telemetry is off). Only the host and port are recorded, never the path.
   */
  outbound?: ((name: string, target?: { host: string; port: number }) => OutboundSpan) | undefined;
}

/** Repeat the same request with these extra headers (the payment proof); never shown to the agent. */
export type PaidRetry<T> = (
  headers: Readonly<Record<string, string>>,
) => Promise<{ response: RetryResponse; value: T }>;

export interface ToolLog {
  level: string;
  logger?: string | undefined;
  data: unknown;
}

export interface ToolProgress {
  progress: number;
  total?: number | undefined;
  message?: string | undefined;
}

export interface ToolOutput {
  result: ToolResult;
  /** Cost the upstream reported, in minor units, when it reports one. */
  actualCost?: number | undefined;
}

/**
 * One interface for every kind of tool: builtin, declarative HTTP connector, and later sandboxed
 * code tools and remote MCP tools. The pipeline only ever talks to this shape.
 */
export interface Tool {
  readonly descriptor: ToolDescriptor;
  /** The MCP server a tool comes from; "briefcase" for the daemon's own tools. */
  readonly server: string;
  readonly tags: string[];
  /** Argument names whose values are redacted in approvals, receipts and policy context. */
  readonly sensitiveArgs: string[];
  /** Plain-language "what this reads / changes", shown to the approver. */
  readonly reads: string | null;
  readonly changes: string | null;
  readonly currency: string;
  /**
   * What the tool may reach (its access manifest), for connectors, code and command tools; a
   * remote server's tools take their server's (RemoteManager).
   */
  readonly access?: AccessManifest | undefined;
  estimateCost(args: Record<string, unknown>): number;
  /**
   * The most one call expects to pay when its upstream answers 402, in this asset (atomic
   * units); 0n when the tool declares nothing for it. Above it, a person must approve.
   */
  paymentEstimate?(offer: { network: string; asset: string }): bigint;
  /** The asset's decimals, if the tool's manifest declares them (what a payment approval shows). */
  paymentDecimals?(offer: { network: string; asset: string }): number | undefined;
  execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput>;
  /**
   * What a remote MCP tool is (server, original name, definition hash): its call hash covers it,
   * so an approval binds to the tool reviewed and not only to the name it is called by.
   */
  readonly identity?: RemoteToolIdentity | undefined;
  /**
   * DESIGN.md §2 step 3, for tools whose definition can change under us (remote MCP): null when
   * the definition matches the pinned one, else why not.
   */
  pinProblem?(): string | null;
  /** Not offered in tools/list (a remote server's resources/read and prompts/get run as tools). */
  readonly unlisted?: boolean;
}

export function textResult(text: string, isError = false): ToolResult {
  return isError ? { content: [{ type: 'text', text }], isError: true } : { content: [{ type: 'text', text }] };
}
