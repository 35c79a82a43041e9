import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '@briefcase/crypto';
import type { ReceiptLog } from '@briefcase/receipts/node';
import type { Logger } from '@briefcase/telemetry';
import { connectorFromJson, namespaceOf, type ToolRegistry } from '../tools/registry.ts';
import type { ConnectorApprovals } from './approvals.ts';
import { cli } from '../cli-hint.ts';
import { readConnectorFile } from './read-file.ts';

export interface ConnectorState {
  file: string;
  state: 'ok' | 'disabled';
  /** Why it is disabled: the path inside the file (or the file) and what to do. */
  reason: string | null;
  tools: string[];
  sha256: string;
}

export interface ConnectorDirectoryDeps {
  dir: string;
  registry: ToolRegistry;
  approvals: ConnectorApprovals;
  receipts: ReceiptLog;
  logger: Logger;
  /** Whether a passkey is enrolled: then only approved bytes load (presence/guard.ts). */
  guarded: () => boolean;
  /** The configured remote servers: their names are their namespaces, no connector's. */
  remoteNames: () => string[];
}

/**
 * A connector's file name: letters, digits, `_`, `-` and `.` (a tool name like `weather.get` is a
 * natural file name, and start-up loaded such files before hot reload), never a leading dot.
 */
export const CONNECTOR_FILE = /^(?!\.)[A-Za-z0-9_.-]{1,64}\.json$/;
export const CONNECTOR_FILE_RULE = '1-64 of A-Z a-z 0-9 _ - . (not starting with a dot), then .json';
const MAX_BYTES = 1024 * 1024;

/**
 * The connectors/ directory as the daemon serves it, re-read on every change (watch.ts). Each
 * file is on its own: one that does not parse, does not validate, clashes with another tool or
 * was not approved is disabled (logged with its path and reason, receipted once per content) and
 * everything else keeps serving. A file that disappears takes its tool with it at once (a
 * narrowing change is never held up).
 */
export class ConnectorDirectory {
  readonly #d: ConnectorDirectoryDeps;
  readonly #states = new Map<string, ConnectorState>();
  /** (file, sha256, outcome) already receipted, so a rescan records nothing new. */
  readonly #reported = new Set<string>();

  constructor(deps: ConnectorDirectoryDeps) {
    this.#d = deps;
  }

  list(): ConnectorState[] {
    return [...this.#states.values()].sort((a, b) => a.file.localeCompare(b.file));
  }

  get(file: string): ConnectorState | undefined {
    return this.#states.get(file);
  }

  /** Read the directory and bring the registry in line with it. */
  scan(): void {
    const files = existsSync(this.#d.dir)
      ? readdirSync(this.#d.dir)
          .filter((f) => f.endsWith('.json'))
          .sort()
      : [];
    const present = new Set(files);
    for (const file of [...this.#states.keys()]) {
      if (present.has(file)) continue;
      this.#d.registry.removeOwned({ kind: 'connector', file });
      this.#states.delete(file);
      this.#d.logger.info('connector file removed: its tools are gone', { path: join(this.#d.dir, file) });
    }
    for (const file of files) this.#load(file);
  }

  /** Re-read one file now, even if its bytes are unchanged (a new approval, `connectors add`). */
  refresh(file: string): void {
    this.#states.delete(file);
    if (existsSync(join(this.#d.dir, file))) this.#load(file);
    else this.#d.registry.removeOwned({ kind: 'connector', file });
  }

  #load(file: string): void {
    const path = join(this.#d.dir, file);
    // One open, no links, bounded (read-file.ts): the bytes hashed are the bytes parsed.
    const read = readConnectorFile(path, MAX_BYTES);
    if (!read.ok) return this.#disable(file, '', read.reason);
    const bytes = read.bytes;
    const sha256 = sha256Hex(bytes);
    const current = this.#states.get(file);
    if (current?.sha256 === sha256) return;
    // New bytes: whatever the old ones registered goes first (a bad edit disables the connector).
    this.#d.registry.removeOwned({ kind: 'connector', file });
    if (!CONNECTOR_FILE.test(file)) {
      return this.#disable(file, sha256, `${path}: a connector file name is ${CONNECTOR_FILE_RULE}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(bytes.toString('utf8'));
    } catch (e) {
      return this.#disable(file, sha256, `${path}: not valid JSON: ${(e as Error).message}`);
    }
    const tool = connectorFromJson(raw, path);
    if (!tool.ok) return this.#disable(file, sha256, tool.error.join('; '));
    const namespace = namespaceOf(tool.value.descriptor.name);
    if (this.#d.remoteNames().includes(namespace)) {
      return this.#disable(
        file,
        sha256,
        `${path}: name: "${namespace}" is the remote MCP server "${namespace}"'s namespace: rename the tool`,
      );
    }
    const approved = this.#d.approvals.get(file);
    if (approved !== sha256) {
      if (this.#d.guarded()) {
        return this.#disable(
          file,
          sha256,
          `${path}: ${approved ? 'changed since it was approved' : 'not approved'}: add it with \`${cli('connectors', 'add', path)}\` (needs your passkey)`,
        );
      }
      this.#d.approvals.set(file, sha256, 'no passkey enrolled');
    }
    const added = this.#d.registry.add(tool.value, { owner: { kind: 'connector', file } });
    if (!added.ok) return this.#disable(file, sha256, `${path}: ${added.error}`);
    const tools = [tool.value.descriptor.name];
    this.#states.set(file, { file, state: 'ok', reason: null, tools, sha256 });
    this.#receipt(file, sha256, 'connector_loaded', { tools });
    this.#d.logger.info('connector loaded', { path, tools });
  }

  #disable(file: string, sha256: string, reason: string): void {
    this.#d.registry.removeOwned({ kind: 'connector', file });
    this.#states.set(file, { file, state: 'disabled', reason, tools: [], sha256 });
    if (this.#receipt(file, sha256, 'connector_disabled', { reason: reason.slice(0, 1000) })) {
      this.#d.logger.warn('connector disabled; everything else keeps serving', {
        path: join(this.#d.dir, file),
        reason,
      });
    }
  }

  #receipt(file: string, sha256: string, event: string, extra: Record<string, unknown>): boolean {
    const key = `${file}\u0000${sha256}\u0000${event}`;
    if (this.#reported.has(key)) return false;
    this.#reported.add(key);
    this.#d.receipts.append('policy', 'daemon', { event, file, sha256, ...extra });
    return true;
  }
}
