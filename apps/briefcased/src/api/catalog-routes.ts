import { z } from 'zod';
import type { ToolCallResponse } from '@briefcase/protocol';
import type { Services } from '../daemon.ts';
import { getPromptTool, parseAgentUri, readResourceTool } from '../remote/catalog.ts';
import { namespaceOf } from '../tools/registry.ts';
import { readJson, sendJson } from './http.ts';
import type { Route } from './routes.ts';

const ReadRequest = z.object({ uri: z.string().min(1).max(4096) }).strict();
const PromptRequest = z
  .object({ name: z.string().min(1).max(256), arguments: z.record(z.string(), z.string()).optional() })
  .strict();

/**
 * The agent's resources and prompts (remote servers', issue 11). Listings are what the admin
 * reviewed; every read and get runs through the call pipeline as `<server>:resources/read` or
 * `<server>:prompts/get` (policy, approval, firewall, one receipt), and answers like a tool call.
 * Every answer passes the agent firewall of agent-view.ts (sendJson).
 */
export function catalogRoutes(s: Services): Route[] {
  const limit = s.config.limits.max_request_bytes;
  return [
    {
      method: 'GET',
      path: /^\/v1\/agent\/resources$/,
      role: 'agent',
      handle: ({ res }) => sendJson(res, 200, { resources: s.remotes.resourceList() }),
    },
    {
      method: 'POST',
      path: /^\/v1\/agent\/resources\/read$/,
      role: 'agent',
      handle: async ({ req, res, signal }) => {
        const { uri } = await readJson(req, limit, ReadRequest);
        // A URI outside every server's namespace resolves to no tool: unknown_tool, receipted.
        const server = parseAgentUri(uri)?.server ?? 'none';
        const response: ToolCallResponse = await s.pipeline.call(readResourceTool(server), { uri }, 'agent', signal);
        sendJson(res, 200, response);
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/agent\/prompts$/,
      role: 'agent',
      handle: ({ res }) => sendJson(res, 200, { prompts: s.remotes.promptList() }),
    },
    {
      method: 'POST',
      path: /^\/v1\/agent\/prompts\/get$/,
      role: 'agent',
      handle: async ({ req, res, signal }) => {
        const body = await readJson(req, limit, PromptRequest);
        const args = { name: body.name, ...(body.arguments ? { arguments: body.arguments } : {}) };
        const response = await s.pipeline.call(getPromptTool(namespaceOf(body.name)), args, 'agent', signal);
        sendJson(res, 200, response);
      },
    },
  ];
}
