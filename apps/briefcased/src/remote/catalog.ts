import { canonicalize, sha256Hex } from '@briefcase/crypto';
import type { Prompt, Resource } from '@modelcontextprotocol/sdk/types.js';
import type { Pin } from './pins.ts';
import { qualifiedNames } from './naming.ts';

/**
 * A remote server's resources and prompts as the agent sees them (issue 11). They follow the
 * tools' review rule: what `remote add` (or `remote pin`) saw is pinned by definition hash; a new
 * or changed definition is hidden from the agent until an admin pins it again.
 *
 * Names are the server's: a resource's URI becomes `briefcase://<server>/<encoded URI>`, a
 * prompt's name `<server>.<name>` (sanitized like a tool's), so no server can present a
 * resource or prompt as another's. Their pins live under `<server>#catalog` (server names cannot
 * contain `#`), keyed `resource:<uri>` / `prompt:<name>`, apart from the tool pins.
 */
export type CatalogKind = 'resource' | 'prompt';

export interface CatalogItem {
  kind: CatalogKind;
  /** The server's URI (resource) or name (prompt). */
  original: string;
  /** The agent's URI or name. */
  agentName: string;
  def: Resource | Prompt;
  hash: string;
  state: 'pinned' | 'new' | 'changed';
  pin: Pin | undefined;
  /** The server lists it more than once: held back as changed, never pinned. */
  listedTwice: boolean;
}

/** The tools through which the agent's resources/read and prompts/get run (pipeline, policy, receipts). */
export const readResourceTool = (server: string) => `${server}:resources/read`;
export const getPromptTool = (server: string) => `${server}:prompts/get`;

export const catalogPinServer = (server: string) => `${server}#catalog`;
export const pinKey = (kind: CatalogKind, original: string) => `${kind}:${original}`;

const URI_PREFIX = 'briefcase://';

export function agentUri(server: string, uri: string): string {
  return `${URI_PREFIX}${server}/${encodeURIComponent(uri)}`;
}

/** The server and its own URI of an agent URI, or null when it is not one of ours. */
export function parseAgentUri(uri: string): { server: string; original: string } | null {
  const m = /^briefcase:\/\/([A-Za-z0-9_-]{1,64})\/(.+)$/.exec(uri);
  if (!m) return null;
  try {
    return { server: m[1]!, original: decodeURIComponent(m[2]!) };
  } catch {
    return null;
  }
}

export function catalogHash(kind: CatalogKind, def: Resource | Prompt): string {
  const { _meta: _ignored, ...rest } = def as Record<string, unknown>;
  return sha256Hex(`briefcase.mcp-${kind}.v1\u0000${canonicalize(rest)}`);
}

export function reviewCatalog(
  server: string,
  resources: Resource[],
  prompts: Prompt[],
  pins: Map<string, Pin>,
): CatalogItem[] {
  const out: CatalogItem[] = [];
  // Listed twice: which one a read would get is the server's choice, so neither is ever pinned.
  const twice = new Set<string>();
  const count = (keys: string[]) => {
    const seen = new Set<string>();
    for (const k of keys) (seen.has(k) ? twice : seen).add(k);
  };
  count(resources.map((r) => pinKey('resource', r.uri)));
  count(prompts.map((p) => pinKey('prompt', p.name)));
  const once = <T>(list: T[], key: (t: T) => string) => [...new Map(list.map((t) => [key(t), t])).values()];
  for (const r of once(resources, (r) => r.uri)) {
    const i = hashable(() => item('resource', r.uri, agentUri(server, r.uri), r, pins, twice));
    if (i) out.push(i);
  }
  const reviewed = new Map<string, string>();
  for (const [key, pin] of pins) {
    if (key.startsWith('prompt:') && pin.qualified) reviewed.set(key.slice(7), pin.qualified);
  }
  const unique = once(prompts, (p) => p.name);
  const names = qualifiedNames(
    server,
    unique.map((p) => p.name),
    reviewed,
  );
  for (const p of unique) {
    const i = hashable(() => item('prompt', p.name, names.get(p.name)!, p, pins, twice));
    if (i) out.push(i);
  }
  return out;
}

/** A definition with no canonical form (a lone surrogate) cannot be pinned: it is not offered. */
function hashable(make: () => CatalogItem): CatalogItem | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}

function item(
  kind: CatalogKind,
  original: string,
  agentName: string,
  def: Resource | Prompt,
  pins: Map<string, Pin>,
  twice: Set<string>,
): CatalogItem {
  const hash = catalogHash(kind, def);
  const pin = pins.get(pinKey(kind, original));
  const listedTwice = twice.has(pinKey(kind, original));
  const state = listedTwice
    ? 'changed'
    : !pin
      ? 'new'
      : pin.hash === hash && (pin.qualified ?? agentName) === agentName
        ? 'pinned'
        : 'changed';
  return { kind, original, agentName, def, hash, state, pin, listedTwice };
}

/** What resources/list shows the agent for one item. */
export function resourceView(i: CatalogItem): Record<string, unknown> {
  const r = i.def as Resource;
  return {
    uri: i.agentName,
    name: r.name,
    ...(r.title !== undefined ? { title: r.title } : {}),
    ...(r.description !== undefined ? { description: r.description } : {}),
    ...(r.mimeType !== undefined ? { mimeType: r.mimeType } : {}),
    ...(typeof r.size === 'number' ? { size: r.size } : {}),
  };
}

/** What prompts/list shows the agent for one item. */
export function promptView(i: CatalogItem): Record<string, unknown> {
  const p = i.def as Prompt;
  return {
    name: i.agentName,
    ...(p.title !== undefined ? { title: p.title } : {}),
    ...(p.description !== undefined ? { description: p.description } : {}),
    ...(p.arguments ? { arguments: p.arguments } : {}),
  };
}
