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

/** MCP content blocks the daemon returns (a subset now; remote MCP adds the rest). */
export const ContentBlock = z.union([
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({ type: z.literal('image'), data: z.string(), mimeType: z.string() }),
  z.object({ type: z.literal('audio'), data: z.string(), mimeType: z.string() }),
]);
export type ContentBlock = z.infer<typeof ContentBlock>;

export const ToolResult = z.object({
  content: z.array(ContentBlock),
  structuredContent: z.record(z.string(), z.unknown()).optional(),
  isError: z.boolean().optional(),
});
export type ToolResult = z.infer<typeof ToolResult>;
