import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { BriefcaseError, HttpConnectorManifest, err, ok, type Result, type ToolDescriptor } from '@briefcase/protocol';
import { findSecretValues, formatIssues } from '../config.ts';
import { builtinTools } from './builtin.ts';
import { loadCodeTools } from './code-tool.ts';
import { loadCommandTools } from './command-tool.ts';
import { HttpConnectorTool } from './http-connector.ts';
import { linearRegExp, PatternBudgetError, withPatternBudget } from './schema-regexp.ts';
import type { Tool } from './tool.ts';

/**
 * No coercion, no defaults, no removal; and `pattern`/`patternProperties` on RE2 (linear time),
 * never on V8's backtracking engine: remote servers write schemas too (see schema-regexp.ts).
 */
const NO_COERCION = {
  allErrors: false,
  coerceTypes: false,
  useDefaults: false,
  removeAdditional: false,
  code: { regExp: linearRegExp },
} as const;

/**
 * Who registered a tool name: the daemon itself, a connector file, or a remote MCP server. A
 * name belongs to its owner: nobody else can replace or remove it.
 */
export type ToolOwner =
  | { kind: 'builtin' }
  | { kind: 'connector'; file: string }
  | { kind: 'remote'; server: string }
  | { kind: 'code'; name: string }
  | { kind: 'command'; name: string };

/** Server names no remote MCP server may take (its tools would look like the daemon's own). */
export const RESERVED_NAMESPACES = ['briefcase'];

export function describeOwner(o: ToolOwner): string {
  return o.kind === 'builtin'
    ? 'a builtin tool'
    : o.kind === 'connector'
      ? `the connector ${o.file}`
      : o.kind === 'code'
        ? `the code tool ${o.name}`
        : o.kind === 'command'
          ? `the command tool ${o.name}`
          : `the remote MCP server "${o.server}"`;
}

const sameOwner = (a: ToolOwner, b: ToolOwner) =>
  a.kind === b.kind &&
  (a.kind === 'builtin' ||
    (a.kind === 'connector' && b.kind === 'connector' && a.file === b.file) ||
    (a.kind === 'remote' && b.kind === 'remote' && a.server === b.server) ||
    (a.kind === 'code' && b.kind === 'code' && a.name === b.name) ||
    (a.kind === 'command' && b.kind === 'command' && a.name === b.name));

/** The part of a tool name before its first `.` (the whole name when it has none). */
export const namespaceOf = (name: string) => name.split('.', 1)[0]!;

interface Entry {
  tool: Tool;
  validate: ValidateFunction;
  owner: ToolOwner;
}

/**
 * Every tool the daemon knows, with its compiled argument validator. Validation is strict JSON
 * Schema with no type coercion, no defaults injected and no removal of extra properties: the
 * arguments a human approves are exactly the ones that run.
 */
export class ToolRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #ajv = new Ajv({ ...NO_COERCION, strict: true });
  /** Remote servers' schemas are theirs, not ours: unknown keywords are tolerated, coercion never. */
  readonly #lenient07 = new Ajv({ ...NO_COERCION, strict: false });
  readonly #lenient2020 = new Ajv2020({ ...NO_COERCION, strict: false });
  readonly #onChange = new Set<() => void>();

  /** Called after every change of the registered set (what the agent sees may have changed). */
  onChange(listener: () => void): void {
    this.#onChange.add(listener);
  }

  #changed(): void {
    for (const l of this.#onChange) l();
  }

  add(tool: Tool, options: { lenient?: boolean; owner?: ToolOwner } = {}): Result<void, string> {
    const name = tool.descriptor.name;
    const owner = options.owner ?? { kind: 'builtin' };
    const existing = this.#entries.get(name);
    if (existing) {
      return err(
        sameOwner(existing.owner, owner)
          ? `tool "${name}" is defined twice`
          : `tool "${name}" is already defined by ${describeOwner(existing.owner)}`,
      );
    }
    const schema = tool.descriptor.inputSchema;
    const ajv = !options.lenient
      ? this.#ajv
      : String(schema.$schema ?? '').includes('draft-07') || String(schema.$schema ?? '').includes('draft-04')
        ? this.#lenient07
        : this.#lenient2020;
    try {
      this.#entries.set(name, { tool, validate: ajv.compile(schema), owner });
    } catch (e) {
      return err(`input_schema: ${(e as Error).message}`);
    }
    this.#changed();
    return ok(undefined);
  }

  /** Remove a name only on behalf of the owner that registered it. */
  remove(name: string, owner: ToolOwner): boolean {
    const entry = this.#entries.get(name);
    if (!entry || !sameOwner(entry.owner, owner)) return false;
    this.#entries.delete(name);
    this.#changed();
    return true;
  }

  /** Remove every name this owner registered, and nothing else. */
  removeOwned(owner: ToolOwner): void {
    for (const [name, entry] of this.#entries) if (sameOwner(entry.owner, owner)) this.#entries.delete(name);
    this.#changed();
  }

  owner(name: string): ToolOwner | undefined {
    return this.#entries.get(name)?.owner;
  }

  /**
   * Who owns a namespace, when anyone but a remote server does: a remote server named like it
   * would present tools that look like those of the daemon or of a connector.
   */
  namespaceOwner(namespace: string): ToolOwner | undefined {
    if (RESERVED_NAMESPACES.includes(namespace)) return { kind: 'builtin' };
    for (const [name, entry] of this.#entries) {
      if (entry.owner.kind !== 'remote' && namespaceOf(name) === namespace) return entry.owner;
    }
    return undefined;
  }

  get(name: string): Tool | undefined {
    return this.#entries.get(name)?.tool;
  }

  /** What the agent may see: a tool held back for review (remote, changed) is not listed. */
  list(): ToolDescriptor[] {
    return [...this.#entries.values()]
      .filter((e) => !e.tool.unlisted && !e.tool.pinProblem?.())
      .map((e) => e.tool.descriptor);
  }

  /** null when valid; otherwise a message naming the argument and what was wrong with it. */
  validateArgs(name: string, args: Record<string, unknown>): string | null {
    const entry = this.#entries.get(name);
    if (!entry) return `unknown tool ${name}`;
    try {
      if (withPatternBudget(() => entry.validate(args))) return null;
    } catch (e) {
      if (e instanceof PatternBudgetError) return `arguments: ${e.message}`;
      throw e;
    }
    const e = entry.validate.errors?.[0];
    if (!e) return 'arguments do not match the schema';
    const where = e.instancePath ? `argument ${e.instancePath.slice(1).replace(/\//g, '.')}` : 'arguments';
    const extra = e.keyword === 'additionalProperties' ? ` ("${String(e.params.additionalProperty)}")` : '';
    return `${where} ${e.message ?? 'is invalid'}${extra}`;
  }
}

/**
 * Builtins (always), every connector manifest in `connectorsDir` (when given), every code tool in
 * `toolsDir` and every command tool in `commandDir`; a bad manifest throws, with every problem.
 */
export function loadRegistry(connectorsDir: string | undefined, toolsDir?: string, commandDir?: string): ToolRegistry {
  const registry = new ToolRegistry();
  for (const tool of builtinTools()) {
    const added = registry.add(tool);
    if (!added.ok) throw new BriefcaseError('internal', added.error);
  }
  const problems: string[] = [];
  if (toolsDir) {
    const code = loadCodeTools(toolsDir);
    problems.push(...code.problems);
    for (const tool of code.tools) {
      const added = registry.add(tool, { owner: { kind: 'code', name: tool.descriptor.name } });
      if (!added.ok) problems.push(`${join(toolsDir, tool.descriptor.name)}: ${added.error}`);
    }
  }
  if (commandDir) {
    const command = loadCommandTools(commandDir);
    problems.push(...command.problems);
    for (const tool of command.tools) {
      const added = registry.add(tool, { owner: { kind: 'command', name: tool.descriptor.name } });
      if (!added.ok) problems.push(`${join(commandDir, tool.descriptor.name)}: ${added.error}`);
    }
  }
  // The daemon loads connectors itself, each on its own (connectors/directory.ts).
  if (connectorsDir === undefined || !existsSync(connectorsDir)) {
    if (problems.length > 0) throw new BriefcaseError('invalid_config', problems.join('\n'));
    return registry;
  }
  for (const file of readdirSync(connectorsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const path = join(connectorsDir, file);
    const loaded = loadConnector(path);
    if (!loaded.ok) {
      problems.push(...loaded.error);
      continue;
    }
    const added = registry.add(loaded.value, { owner: { kind: 'connector', file } });
    if (!added.ok) problems.push(`${path}: ${added.error}`);
  }
  if (problems.length > 0) throw new BriefcaseError('invalid_config', problems.join('\n'));
  return registry;
}

export function loadConnector(path: string): Result<HttpConnectorTool, string[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return err([`${path}: not valid JSON: ${(e as Error).message}`]);
  }
  return connectorFromJson(raw, path);
}

/** A connector manifest already parsed as JSON; `where` names it in every problem. */
export function connectorFromJson(raw: unknown, where: string): Result<HttpConnectorTool, string[]> {
  const secrets = findSecretValues(raw);
  if (secrets.length > 0) return err(secrets.map((s) => `${where}: ${s}`));
  const parsed = HttpConnectorManifest.safeParse(raw);
  if (!parsed.success) return err(formatIssues(where, parsed.error));
  const problems = HttpConnectorTool.check(parsed.data);
  if (problems.length > 0) return err(problems.map((p) => `${where}: ${p}`));
  return ok(new HttpConnectorTool(parsed.data));
}
