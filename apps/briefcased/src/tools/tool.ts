import type { RemoteToolIdentity } from '@briefcase/crypto';
import type { ToolDescriptor, ToolResult } from '@briefcase/protocol';
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
   * A span for a request the tool sends upstream; its `traceparent` goes with the request
   * (undefined when telemetry is off). Only the host and port are recorded, never the path.
   */
  outbound?: ((name: string, target?: { host: string; port: number }) => OutboundSpan) | undefined;
}

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
  estimateCost(args: Record<string, unknown>): number;
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
}

export function textResult(text: string, isError = false): ToolResult {
  return isError ? { content: [{ type: 'text', text }], isError: true } : { content: [{ type: 'text', text }] };
}
