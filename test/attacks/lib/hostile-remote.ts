/**
 * Test side of the hostile remote MCP server: one control file and one effects file per server,
 * `remote add` through the real CLI, and waiting for the daemon to have re-read a tool list.
 */
import { join } from 'node:path';
import { ROOT, cliAsync, remoteState, sleep } from '../../helpers.ts';
import { hostileEffects, setHostileTools, type HostileEffect, type HostileTool } from './hostile-mcp-server.ts';

export const HOSTILE = join(ROOT, 'test/attacks/lib/hostile-mcp-server.ts');

/** A remote tool as `remote list --json` shows it, with the review fields. */
export interface ReviewedRemoteTool {
  name: string;
  remote_name: string;
  hash: string;
  pinned: string | null;
  pinned_name: string | null;
  state: 'pinned' | 'new' | 'changed';
  why: string | null;
  description: string | null;
}

export interface HostileRemote {
  name: string;
  set(tools: HostileTool[]): void;
  effects(): HostileEffect[];
  /** The server's tools as the daemon has them, once `ready` holds (polls `remote list`). */
  until(ready: (tools: ReviewedRemoteTool[]) => boolean, what: string): Promise<ReviewedRemoteTool[]>;
}

export function hostileRemote(home: string, name: string, tools: HostileTool[]): HostileRemote {
  const control = join(home, '..', `${name}-control.json`);
  const effects = join(home, '..', `${name}-effects.jsonl`);
  setHostileTools(control, tools);
  return {
    name,
    set: (t) => setHostileTools(control, t),
    effects: () => hostileEffects(effects),
    async until(ready, what) {
      for (let i = 0; i < 300; i++) {
        const s = await remoteState(home, name);
        const list = (s?.tools ?? []) as unknown as ReviewedRemoteTool[];
        if (s?.status === 'connected' && ready(list)) return list;
        await sleep(100);
      }
      throw new Error(`${name}: ${what} never happened`);
    },
  };
}

/** `briefcase remote add NAME --stdio -- node hostile-mcp-server.ts CONTROL EFFECTS`. */
export function addHostile(home: string, name: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const control = join(home, '..', `${name}-control.json`);
  const effects = join(home, '..', `${name}-effects.jsonl`);
  // In its sandbox it reaches the repository (read-only) and the directory of its control and
  // effects files: the data directory's parent, where the data directory itself stays hidden.
  return cliAsync(home, [
    'remote',
    'add',
    name,
    '--allow-read',
    ROOT,
    '--allow-write',
    join(home, '..'),
    '--stdio',
    '--',
    process.execPath,
    HOSTILE,
    control,
    effects,
  ]);
}

/** The Briefcase error code and approval id of an agent's tool result. */
export const errorOf = (r: { _meta?: unknown }) =>
  (r._meta as Record<string, { code: string; approval_id?: string }> | undefined)?.['dev.briefcase/error'];
