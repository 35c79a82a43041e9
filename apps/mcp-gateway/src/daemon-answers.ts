import { BriefcaseError, isErrorCode } from '@briefcase/protocol/errors';
import type { ToolCallResponse, ToolListResponse } from '@briefcase/protocol';

/**
 * Shape checks of the daemon's answers, by hand rather than with the protocol's zod schemas:
 * loading those schemas cost the gateway ~18 MiB of its resident size and parsing each answer
 * ~3% of its CPU (issue 13). The daemon is the trusted side; these checks only make sure a
 * malformed answer becomes a clear `internal` error instead of a crash, and the SDK checks the
 * tool result it sends on (CallToolResultSchema) before the agent sees it.
 */
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

function unexpected(what: string): BriefcaseError {
  return new BriefcaseError('internal', `the Briefcase daemon sent an unexpected answer (${what})`);
}

export function toolCallResponse(v: unknown): ToolCallResponse {
  if (!isObj(v)) throw unexpected('not an object');
  if (v.ok === true) {
    const r = v.result;
    if (!isObj(r) || !Array.isArray(r.content)) throw unexpected('result.content');
    if (!isStr(v.receipt_id) || !isStr(v.origin)) throw unexpected('receipt_id or origin');
    if (v.payment !== undefined && (!isObj(v.payment) || !Object.values(v.payment).every(isStr))) {
      throw unexpected('payment');
    }
  } else if (v.ok === false) {
    const e = v.error;
    if (!isObj(e) || !isErrorCode(e.code) || !isStr(e.message)) throw unexpected('error');
    if (v.receipt_id !== null && !isStr(v.receipt_id)) throw unexpected('receipt_id');
    const a = e.approval;
    if (
      a !== undefined &&
      !(
        isObj(a) &&
        isStr(a.approval_id) &&
        isStr(a.expires_at) &&
        isStr(a.approve_command) &&
        Number.isSafeInteger(a.wait_ms) &&
        (a.wait_ms as number) >= 0
      )
    ) {
      throw unexpected('error.approval');
    }
  } else throw unexpected('ok');
  return v as ToolCallResponse;
}

export function toolListResponse(v: unknown): ToolListResponse {
  if (!isObj(v) || !Array.isArray(v.tools)) throw unexpected('tools');
  for (const t of v.tools as unknown[]) {
    if (!isObj(t) || !isStr(t.name) || !isStr(t.description) || !isObj(t.inputSchema)) throw unexpected('a tool');
    if (t.title !== undefined && !isStr(t.title)) throw unexpected('a tool title');
    if (t.outputSchema !== undefined && !isObj(t.outputSchema)) throw unexpected('a tool outputSchema');
    if (t.annotations !== undefined && !isObj(t.annotations)) throw unexpected('tool annotations');
  }
  return v as ToolListResponse;
}

/** `{<key>: [{…}]}` whose items are objects with the given string fields (others pass through). */
export function listOf(v: unknown, key: string, strings: readonly string[]): Record<string, unknown>[] {
  const list = isObj(v) ? v[key] : undefined;
  if (!Array.isArray(list)) throw unexpected(key);
  for (const item of list as unknown[]) {
    if (!isObj(item) || !strings.every((k) => isStr(item[k]))) throw unexpected(`an item of ${key}`);
  }
  return list as Record<string, unknown>[];
}

export interface ListVersions {
  tools: string;
  resources: string;
  prompts: string;
}

export function listVersions(v: unknown): ListVersions {
  const versions = isObj(v) ? v.versions : undefined;
  if (!isObj(versions) || !isStr(versions.tools) || !isStr(versions.resources) || !isStr(versions.prompts)) {
    throw unexpected('versions');
  }
  return { tools: versions.tools, resources: versions.resources, prompts: versions.prompts };
}

export const LOG_LEVELS = new Set(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency']);
export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'critical' | 'alert' | 'emergency';

export interface ProgressUpdate {
  progress: number;
  total?: number | undefined;
  message?: string | undefined;
}

/** An MCP log message (notifications/message params) from a running tool. */
export interface LogMessage {
  level: LogLevel;
  logger?: string;
  data: unknown;
}

export type DaemonEvent = ({ type: 'progress' } & ProgressUpdate) | { type: 'log'; log: LogMessage };

/** A line of the daemon's streamed answer before the response; null for anything else. */
export function daemonEvent(v: unknown): DaemonEvent | null {
  if (!isObj(v)) return null;
  if (v.type === 'progress') {
    const { progress, total, message } = v;
    if (typeof progress !== 'number') return null;
    if (total !== undefined && typeof total !== 'number') return null;
    if (message !== undefined && !isStr(message)) return null;
    return {
      type: 'progress',
      progress,
      ...(total !== undefined ? { total } : {}),
      ...(message !== undefined ? { message } : {}),
    };
  }
  if (v.type === 'log') {
    const { level, logger, data } = v;
    if (!isStr(level) || !LOG_LEVELS.has(level)) return null;
    if (logger !== undefined && !isStr(logger)) return null;
    return { type: 'log', log: { level: level as LogLevel, ...(logger !== undefined ? { logger } : {}), data } };
  }
  return null;
}
