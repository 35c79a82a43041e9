import { BriefcaseError, type ToolResult } from '@briefcase/protocol';
import type { Tool, ToolContext, ToolOutput } from '../tools/tool.ts';
import { agentUri, getPromptTool, readResourceTool, type CatalogItem } from './catalog.ts';
import type { RemoteServer } from './remote-server.ts';
import { cli } from '../cli-hint.ts';

/**
 * resources/read and prompts/get of one remote server, as tools the pipeline runs (docs/remote-mcp.md
 * "Resources and prompts"): resolve, validate, policy (a `read`-category tool named
 * `<server>:resources/read` or `<server>:prompts/get`, tagged `server:<server>`), budget, approval,
 * execute, firewall (every byte: contents, URIs, messages), one receipt. Not listed as tools.
 */
export class RemoteCatalogTool implements Tool {
  readonly descriptor: Tool['descriptor'];
  readonly server: string;
  readonly tags: string[];
  readonly sensitiveArgs: string[] = [];
  readonly reads: string;
  readonly changes = null;
  readonly currency = 'USD';
  readonly unlisted = true;
  readonly #kind: 'resource' | 'prompt';
  readonly #remote: RemoteServer;
  readonly #lookup: (agentName: string) => CatalogItem | undefined;
  readonly #maxBytes: number;

  constructor(
    kind: 'resource' | 'prompt',
    remote: RemoteServer,
    lookup: (agentName: string) => CatalogItem | undefined,
    maxBytes: number,
  ) {
    this.#kind = kind;
    this.#remote = remote;
    this.#lookup = lookup;
    this.#maxBytes = maxBytes;
    this.server = remote.config.name;
    this.tags = [`server:${this.server}`, kind === 'resource' ? 'mcp:resource' : 'mcp:prompt'];
    const name = kind === 'resource' ? readResourceTool(this.server) : getPromptTool(this.server);
    this.reads =
      kind === 'resource'
        ? `a resource of the MCP server "${this.server}"`
        : `a prompt of the MCP server "${this.server}"`;
    this.descriptor = {
      name,
      description: this.reads,
      inputSchema:
        kind === 'resource'
          ? {
              type: 'object',
              properties: { uri: { type: 'string', maxLength: 4096 } },
              required: ['uri'],
              additionalProperties: false,
            }
          : {
              type: 'object',
              properties: {
                name: { type: 'string', maxLength: 256 },
                arguments: { type: 'object', additionalProperties: { type: 'string' } },
              },
              required: ['name'],
              additionalProperties: false,
            },
      category: 'read',
      origin: 'remote_mcp',
    };
  }

  estimateCost(): number {
    return 0;
  }

  async execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput> {
    const wanted = String(this.#kind === 'resource' ? args.uri : args.name);
    const item = this.#lookup(wanted);
    if (!item || item.kind !== this.#kind) {
      throw new BriefcaseError('invalid_args', `${this.server} has no ${this.#kind} ${wanted.slice(0, 300)}`);
    }
    if (item.state !== 'pinned') {
      throw new BriefcaseError(
        'tool_changed',
        `the ${this.#kind} ${wanted.slice(0, 300)} is ${item.state} since it was reviewed; an admin must run \`${cli('remote', 'pin', this.server)}\``,
      );
    }
    const result =
      this.#kind === 'resource'
        ? await this.#read(item, ctx.signal)
        : await this.#prompt(item, (args.arguments ?? {}) as Record<string, string>, ctx.signal);
    const size = Buffer.byteLength(JSON.stringify(result));
    if (size > this.#maxBytes) {
      throw new BriefcaseError(
        'upstream_error',
        `the MCP server "${this.server}" returned ${size} bytes, over the ${this.#maxBytes}-byte limit`,
      );
    }
    return { result };
  }

  async #read(item: CatalogItem, signal: AbortSignal): Promise<ToolResult> {
    const read = await this.#remote.readResource(item.original, signal);
    // Every URI the agent reads back is in this server's namespace.
    const contents = (read.contents ?? []).map((c) => ({
      ...c,
      uri: c.uri === item.original ? item.agentName : agentUri(this.server, String(c.uri)),
    }));
    return {
      content: [{ type: 'text', text: `${contents.length} part(s) of ${item.agentName}` }],
      structuredContent: { contents },
    };
  }

  async #prompt(item: CatalogItem, args: Record<string, string>, signal: AbortSignal): Promise<ToolResult> {
    const got = await this.#remote.getPrompt(item.original, args, signal);
    return {
      content: [{ type: 'text', text: `prompt ${item.agentName}: ${got.messages.length} message(s)` }],
      structuredContent: {
        ...(got.description !== undefined ? { description: got.description } : {}),
        messages: got.messages,
      },
    };
  }
}
