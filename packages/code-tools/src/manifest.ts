import { AccessManifest, PaymentDeclarations, ToolCategory, ToolName } from '@briefcase/protocol';
import { z } from 'zod';

/**
 * A code tool's manifest (`<data dir>/code-tools/<name>/manifest.json`): what the agent sees (name,
 * description, category, input_schema), what runs (runtime + entry file beside the manifest) and
 * what it may reach (`access`, the one AccessManifest of every tool kind). Nothing is granted by
 * default: no network, no secrets; the key-value store, progress and log are always available.
 */
export const CodeToolManifest = z
  .object({
    kind: z.literal('code').optional(),
    /** Also the tool's directory name, so never `.`, `..` or hidden. */
    name: ToolName.refine((n) => !n.startsWith('.'), 'a code tool name does not start with "."'),
    title: z.string().max(200).optional(),
    description: z.string().min(1).max(4000),
    category: ToolCategory,
    tags: z.array(z.string().max(64)).max(32).default([]),
    input_schema: z.record(z.string(), z.unknown()),
    runtime: z.enum(['quickjs', 'wasm']),
    /** The code file, a plain name in the tool's directory (`tool.js`, `tool.wasm`). */
    entry: z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$/, 'a file name in the tool directory'),
    reads: z.string().max(500).optional(),
    changes: z.string().max(500).optional(),
    access: AccessManifest.default(AccessManifest.parse({})),
    /**
     * `cost.payments`: the tool may pay a granted host that answers 402, at most `max` per call
     * and asset (docs/payments.md). Without it a 402 reaches the code as a 402.
     */
    cost: z
      .object({ payments: PaymentDeclarations.min(1) })
      .strict()
      .optional(),
  })
  .strict();
export type CodeToolManifest = z.infer<typeof CodeToolManifest>;

/** Largest code file accepted (a QuickJS script or a WebAssembly module). */
export const MAX_CODE_BYTES = 4 * 1024 * 1024;
