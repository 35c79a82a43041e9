import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { BriefcaseError, HttpConnectorManifest, err, ok, type Result, type ToolDescriptor } from '@briefcase/protocol';
import { findSecretValues, formatIssues } from '../config.ts';
import { builtinTools } from './builtin.ts';
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

interface Entry {
  tool: Tool;
  validate: ValidateFunction;
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

  add(tool: Tool, options: { lenient?: boolean } = {}): Result<void, string> {
    const name = tool.descriptor.name;
    if (this.#entries.has(name)) return err(`tool "${name}" is defined twice`);
    const schema = tool.descriptor.inputSchema;
    const ajv = !options.lenient
      ? this.#ajv
      : String(schema.$schema ?? '').includes('draft-07') || String(schema.$schema ?? '').includes('draft-04')
        ? this.#lenient07
        : this.#lenient2020;
    try {
      this.#entries.set(name, { tool, validate: ajv.compile(schema) });
    } catch (e) {
      return err(`input_schema: ${(e as Error).message}`);
    }
    return ok(undefined);
  }

  remove(name: string): boolean {
    return this.#entries.delete(name);
  }

  get(name: string): Tool | undefined {
    return this.#entries.get(name)?.tool;
  }

  list(): ToolDescriptor[] {
    return [...this.#entries.values()].map((e) => e.tool.descriptor);
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

/** Builtins (always) plus every connector manifest in `dir`; a bad manifest stops the start. */
export function loadRegistry(connectorsDir: string): ToolRegistry {
  const registry = new ToolRegistry();
  for (const tool of builtinTools()) {
    const added = registry.add(tool);
    if (!added.ok) throw new BriefcaseError('internal', added.error);
  }
  if (!existsSync(connectorsDir)) return registry;
  const problems: string[] = [];
  for (const file of readdirSync(connectorsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const path = join(connectorsDir, file);
    const loaded = loadConnector(path);
    if (!loaded.ok) {
      problems.push(...loaded.error);
      continue;
    }
    const added = registry.add(loaded.value);
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
  const secrets = findSecretValues(raw);
  if (secrets.length > 0) return err(secrets.map((s) => `${path}: ${s}`));
  const parsed = HttpConnectorManifest.safeParse(raw);
  if (!parsed.success) return err(formatIssues(path, parsed.error));
  const problems = HttpConnectorTool.check(parsed.data);
  if (problems.length > 0) return err(problems.map((p) => `${path}: ${p}`));
  return ok(new HttpConnectorTool(parsed.data));
}
