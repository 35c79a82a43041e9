import type { Tool as McpTool } from '@modelcontextprotocol/sdk/types.js';
import { definitionHash, qualifiedNames } from './naming.ts';
import type { Pin } from './pins.ts';

/**
 * Where a remote tool stands against what an admin reviewed:
 * - `pinned`: same original name, same definition hash, same `server.tool` name as reviewed;
 * - `new`: never reviewed (appeared after `remote add`, or the first listing was not reviewed);
 * - `changed`: reviewed, but its definition or the name it is presented under differs, or the
 *   server lists it more than once.
 * Only `pinned` tools are shown to the agent and run.
 */
export type ReviewState = 'pinned' | 'new' | 'changed';

export interface ReviewedTool {
  def: McpTool;
  original: string;
  qualified: string;
  hash: string;
  state: ReviewState;
  pin: Pin | undefined;
  /** How many times the server's list names this tool (more than once: held, never pinned). */
  listed: number;
  /** For `new` and `changed`: what an admin needs to know, without the server's text. */
  why: string | null;
}

export function review(server: string, tools: McpTool[], pins: ReadonlyMap<string, Pin>): ReviewedTool[] {
  const reviewedNames = new Map<string, string>();
  for (const [original, pin] of pins) if (pin.qualified !== null) reviewedNames.set(original, pin.qualified);
  const count = new Map<string, number>();
  for (const t of tools) count.set(t.name, (count.get(t.name) ?? 0) + 1);
  const names = qualifiedNames(server, [...count.keys()], reviewedNames);
  const seen = new Set<string>();
  const out: ReviewedTool[] = [];
  for (const def of tools) {
    if (seen.has(def.name)) continue;
    seen.add(def.name);
    const qualified = names.get(def.name)!;
    const hash = definitionHash(def);
    const pin = pins.get(def.name);
    const times = count.get(def.name)!;
    const base = { def, original: def.name, qualified, hash, pin, listed: times };
    if (times > 1) {
      out.push({ ...base, state: 'changed', why: `the server lists this tool ${times} times` });
    } else if (!pin) {
      out.push({ ...base, state: 'new', why: 'not reviewed: it appeared after the server was added' });
    } else if (pin.hash !== hash) {
      out.push({
        ...base,
        state: 'changed',
        why: `definition hash ${hash.slice(0, 12)}… differs from the reviewed ${pin.hash.slice(0, 12)}…`,
      });
    } else if (pin.qualified !== null && pin.qualified !== qualified) {
      out.push({ ...base, state: 'changed', why: `presented as ${qualified}, reviewed as ${pin.qualified}` });
    } else {
      out.push({ ...base, state: 'pinned', why: null });
    }
  }
  return out;
}
