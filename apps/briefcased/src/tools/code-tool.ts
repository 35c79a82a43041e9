import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CodeTool, type HostDeps } from '@briefcase/code-tools';
import { checkedFetch } from '@briefcase/egress';
import type { ToolResult } from '@briefcase/protocol';
import { textResult, type Tool, type ToolContext, type ToolOutput } from './tool.ts';

/**
 * The daemon's egress for a code tool's host.http. The Host has already checked the URL against
 * the manifest's grants (that is what names the refused host to the code); `checkedFetch`
 * checks the addresses the name resolves to (loopback, link-local, private, metadata unless
 * granted), connects to the checked address only, and refuses a redirect to a target the rules
 * refuse (EgressViolation, which the Host turns into the call's sandbox_violation).
 */
const codeToolFetch: HostDeps['fetch'] = (url, init) => checkedFetch(url, { ...init, redirect: 'manual' });

/**
 * A code tool (QuickJS or WebAssembly) as the pipeline sees it. It runs in the daemon with its
 * manifest's limits and only its granted host functions (packages/code-tools); a violation
 * throws `sandbox_violation`, which the pipeline receipts once.
 */
export class CodeToolAdapter implements Tool {
  readonly descriptor: Tool['descriptor'];
  readonly server = 'briefcase';
  readonly tags: string[];
  readonly sensitiveArgs: string[] = [];
  readonly reads: string | null;
  readonly changes: string | null;
  readonly currency = 'USD';
  readonly code: CodeTool;
  readonly access: CodeTool['manifest']['access'];

  constructor(code: CodeTool) {
    const m = code.manifest;
    this.code = code;
    this.access = m.access;
    this.descriptor = {
      name: m.name,
      ...(m.title ? { title: m.title } : {}),
      description: m.description,
      category: m.category,
      origin: 'sandbox',
      inputSchema: m.input_schema,
      annotations: { readOnlyHint: m.category === 'read', openWorldHint: m.access.network.length > 0 },
    };
    this.tags = m.tags;
    this.reads = m.reads ?? null;
    this.changes = m.changes ?? null;
  }

  estimateCost(): number {
    return 0;
  }

  /** The manifest's `cost.payments` maximum for this asset; 0n when none is declared. */
  paymentEstimate(offer: { network: string; asset: string }): bigint {
    const declared = this.#declared(offer);
    return declared ? BigInt(declared.max) : 0n;
  }

  paymentDecimals(offer: { network: string; asset: string }): number | undefined {
    return this.#declared(offer)?.decimals;
  }

  #declared(offer: { network: string; asset: string }) {
    return this.code.manifest.cost?.payments.find(
      (p) => p.network === offer.network && p.asset.toLowerCase() === offer.asset,
    );
  }

  async execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput> {
    const outcome = await this.code.call(args, {
      secret: (name) => ctx.secret(name).expose(),
      scrub: ctx.scrub ?? ((t) => t),
      fetch: codeToolFetch,
      signal: ctx.signal,
      onProgress: ctx.onProgress,
      onLog: ctx.onLog,
      // Only a tool that declares what it may pay gets the payment step; others see the 402.
      pay: this.code.manifest.cost?.payments && ctx.pay ? ctx.pay : undefined,
    });
    if (!outcome.ok) return { result: textResult(`the tool failed: ${outcome.error}`, true) };
    return { result: toResult(outcome.value) };
  }
}

/** A string is text; an object is structured content (and its JSON as text); anything else, JSON text. */
function toResult(value: unknown): ToolResult {
  if (typeof value === 'string') return textResult(value);
  const text = JSON.stringify(value ?? null);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return { content: [{ type: 'text', text }], structuredContent: value as Record<string, unknown> };
  }
  return textResult(text);
}

/** Every code tool under `<data dir>/tools/<name>/`; a directory not named after its tool is a problem. */
export function loadCodeTools(toolsDir: string): { tools: CodeToolAdapter[]; problems: string[] } {
  const tools: CodeToolAdapter[] = [];
  const problems: string[] = [];
  if (!existsSync(toolsDir)) return { tools, problems };
  for (const name of readdirSync(toolsDir).sort()) {
    const dir = join(toolsDir, name);
    const loaded = CodeTool.load(dir);
    if (!loaded.ok) problems.push(...loaded.error);
    else if (loaded.value.manifest.name !== name)
      problems.push(`${dir}: holds the tool "${loaded.value.manifest.name}"`);
    else tools.push(new CodeToolAdapter(loaded.value));
  }
  return { tools, problems };
}
