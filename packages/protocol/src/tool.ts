import { z } from 'zod';

/** What a tool does to the world; drives the default policy (DESIGN.md §2 step 4). */
export const ToolCategory = z.enum(['read', 'write', 'payment', 'admin']);
export type ToolCategory = z.infer<typeof ToolCategory>;

/** Where a tool comes from. Remote MCP and sandboxed code tools join later. */
export const ToolOrigin = z.enum(['builtin', 'http', 'remote_mcp', 'sandbox']);
export type ToolOrigin = z.infer<typeof ToolOrigin>;

/** Valid MCP tool names (MCP 2025-11-25: 1–128 chars of A-Z a-z 0-9 _ - .). */
export const ToolName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,128}$/, 'tool names use 1-128 characters of A-Z a-z 0-9 _ - .');

/** A tool as the agent sees it in tools/list. */
export const ToolDescriptor = z.object({
  name: ToolName,
  title: z.string().optional(),
  description: z.string(),
  inputSchema: z.record(z.string(), z.unknown()),
  outputSchema: z.record(z.string(), z.unknown()).optional(),
  category: ToolCategory,
  origin: ToolOrigin,
  annotations: z
    .object({
      readOnlyHint: z.boolean().optional(),
      destructiveHint: z.boolean().optional(),
      idempotentHint: z.boolean().optional(),
      openWorldHint: z.boolean().optional(),
    })
    .optional(),
});
export type ToolDescriptor = z.infer<typeof ToolDescriptor>;

/**
 * MCP content blocks (MCP 2025-11-25 §tools "Tool Result"): text, image, audio, resource links and
 * embedded resources. Objects are loose so that annotations and `_meta` pass through intact.
 */
export const ContentBlock = z.union([
  z.looseObject({ type: z.literal('text'), text: z.string() }),
  z.looseObject({ type: z.literal('image'), data: z.string(), mimeType: z.string() }),
  z.looseObject({ type: z.literal('audio'), data: z.string(), mimeType: z.string() }),
  z.looseObject({ type: z.literal('resource_link'), uri: z.string(), name: z.string() }),
  z.looseObject({
    type: z.literal('resource'),
    resource: z.looseObject({ uri: z.string(), text: z.string().optional(), blob: z.string().optional() }),
  }),
]);
export type ContentBlock = z.infer<typeof ContentBlock>;

export const ToolResult = z.looseObject({
  content: z.array(ContentBlock),
  structuredContent: z.record(z.string(), z.unknown()).optional(),
  isError: z.boolean().optional(),
});
export type ToolResult = z.infer<typeof ToolResult>;
