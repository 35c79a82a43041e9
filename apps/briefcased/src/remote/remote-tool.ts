import type { CallToolResult, Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import type { RemoteToolIdentity } from '@briefcase/crypto';
import { BriefcaseError, type ToolResult } from '@briefcase/protocol';
import type { Tool, ToolContext, ToolOutput } from '../tools/tool.ts';
import type { RemoteServer } from './remote-server.ts';

/**
 * A tool of a remote MCP server, gated and receipted like a local one. A tool not marked
 * read-only is treated as a write (MCP annotations are hints from the server, so only the safe
 * direction is trusted).
 */
export class RemoteMcpTool implements Tool {
  readonly descriptor: Tool['descriptor'];
  readonly server: string;
  readonly tags: string[];
  readonly sensitiveArgs: string[] = [];
  readonly reads: string | null;
  readonly changes: string | null;
  readonly currency = 'USD';
  readonly identity: RemoteToolIdentity;
  readonly #remote: RemoteServer;
  readonly #original: string;
  readonly #pinProblem: () => string | null;

  readonly #maxResultBytes: number;

  /**
   * `held`: a tool waiting for review (changed since it was pinned). It is registered only so a
   * call answers `tool_changed`; nothing of its new definition is used, not even its schema.
   */
  constructor(
    qualified: string,
    def: McpTool,
    hash: string,
    remote: RemoteServer,
    pinProblem: () => string | null,
    maxResultBytes: number,
    held = false,
  ) {
    this.#maxResultBytes = maxResultBytes;
    this.#remote = remote;
    this.#original = def.name;
    this.#pinProblem = held ? () => pinProblem() ?? 'waiting for review' : pinProblem;
    this.server = remote.config.name;
    this.identity = { server: this.server, name: def.name, definition_hash: hash };
    this.tags = [`server:${this.server}`];
    const readOnly = !held && def.annotations?.readOnlyHint === true;
    if (held) {
      this.descriptor = {
        name: qualified,
        description: '',
        inputSchema: { type: 'object' },
        category: 'write',
        origin: 'remote_mcp',
      };
      this.reads = null;
      this.changes = 'a tool waiting for review';
      return;
    }
    this.descriptor = {
      name: qualified,
      ...(def.title ? { title: def.title } : {}),
      description: def.description ?? '',
      inputSchema: def.inputSchema as Record<string, unknown>,
      ...(def.outputSchema ? { outputSchema: def.outputSchema as Record<string, unknown> } : {}),
      category: readOnly ? 'read' : 'write',
      origin: 'remote_mcp',
      ...(def.annotations ? { annotations: def.annotations } : {}),
    };
    const where = `the MCP server "${this.server}" (tool ${def.name})`;
    this.reads = readOnly ? `whatever ${where} reads` : null;
    this.changes = readOnly ? null : `whatever ${where} changes; the server does not mark it read-only`;
  }

  estimateCost(): number {
    return 0;
  }

  /** The server's declared per-call payment maximum (remotes.json `payments`); 0n: none. */
  paymentEstimate(offer: { network: string; asset: string }): bigint {
    const declared = this.#declared(offer);
    return declared ? BigInt(declared.max) : 0n;
  }

  paymentDecimals(offer: { network: string; asset: string }): number | undefined {
    return this.#declared(offer)?.decimals;
  }

  #declared(offer: { network: string; asset: string }) {
    return this.#remote.config.payments?.find(
      (p) => p.network === offer.network && p.asset.toLowerCase() === offer.asset,
    );
  }

  pinProblem(): string | null {
    return this.#pinProblem();
  }

  async execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput> {
    // The pipeline checked this before; a re-listing may have happened while it waited.
    const problem = this.#pinProblem();
    if (problem)
      throw new BriefcaseError('tool_changed', `${this.descriptor.name} changed while the call waited`, problem);
    const config = this.#remote.config;
    const url = config.transport === 'http' ? new URL(config.url) : undefined;
    const span = ctx.outbound?.(
      'MCP tools/call',
      url ? { host: url.hostname, port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80) } : undefined,
    );
    let result: CallToolResult;
    try {
      result = await this.#call(args, ctx, span?.traceparent);
      span?.end(undefined, result.isError === true);
    } catch (e) {
      span?.end(undefined, true);
      throw e;
    }
    if (result.isError && ctx.pay) result = await this.#payIfAsked(result, args, ctx, span?.traceparent);
    const size = Buffer.byteLength(JSON.stringify(result));
    if (size > this.#maxResultBytes) {
      throw new BriefcaseError(
        'upstream_error',
        `the MCP server "${this.server}" returned ${size} bytes, over the ${this.#maxResultBytes}-byte limit`,
      );
    }
    const out: ToolResult = { content: (result.content ?? []) as ToolResult['content'] };
    if (result.structuredContent) out.structuredContent = result.structuredContent;
    if (result.isError) out.isError = true;
    return { result: out };
  }

  /**
   * x402's MCP transport (docs/payments.md): a result asking for payment goes through the
   * daemon's payment step — grant, ledger, approvals, the helper's signature — and the same
   * tools/call is repeated once with `_meta["x402/payment"]`. A server that asks again after
   * being paid is not paid twice: its second ask is an error.
   */
  async #payIfAsked(
    result: CallToolResult,
    args: Record<string, unknown>,
    ctx: ToolContext,
    traceparent: string | undefined,
  ): Promise<CallToolResult> {
    const x402 = await import('@briefcase/payments/x402');
    const challenge = x402.mcpChallenge(`mcp:${this.server}/${this.#original}`, result);
    if (!challenge || !ctx.pay) return result;
    const paid = await ctx.pay(challenge, async (proof) => {
      const retried = await this.#call(args, ctx, traceparent, x402.mcpPaymentMeta(proof));
      return { response: x402.mcpRetryResponse(retried), value: retried };
    });
    if (x402.mcpPaymentRequired(paid)) {
      throw new BriefcaseError(
        'upstream_error',
        `the MCP server "${this.server}" asked for payment again after it was paid; it is not paid twice`,
      );
    }
    return paid;
  }

  #call(
    args: Record<string, unknown>,
    ctx: ToolContext,
    traceparent: string | undefined,
    extraMeta?: Record<string, unknown>,
  ): Promise<CallToolResult> {
    return this.#remote.callTool(
      this.#original,
      args,
      ctx.signal,
      ctx.onProgress
        ? (p) =>
            ctx.onProgress?.({
              progress: p.progress,
              ...(p.total !== undefined ? { total: p.total } : {}),
              ...(p.message !== undefined ? { message: p.message } : {}),
            })
        : undefined,
      ctx.onLog,
      traceparent,
      extraMeta,
    );
  }
}
