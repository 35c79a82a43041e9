import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpConnectorManifest, SECRET_REF } from '@briefcase/protocol';
import { cliCommand, homeArgsFor } from '@briefcase/protocol/invocation';
import { VAULT_FILE } from '@briefcase/vault';
import { loadRemotes } from '../remote/config.ts';
import { effectiveAccess } from '../remote/infer-access.ts';
import { findSecretValues, formatIssues } from '../config.ts';
import { HttpConnectorTool } from '../tools/http-connector.ts';
import { connectorFromJson } from '../tools/registry.ts';
import { readConnectorFile } from './read-file.ts';

/** One thing wrong with a connector file: where (the file, the path inside the JSON), what, what to do. */
export interface ConnectorProblem {
  file: string;
  /** The path inside the JSON (`request.headers.Authorization`), or `(file)`. */
  at: string;
  problem: string;
  fix: string;
}

export interface ConnectorCheck {
  file: string;
  ok: boolean;
  tools: string[];
  /** Vault secrets its headers reference. */
  secrets: string[];
  problems: ConnectorProblem[];
}

/**
 * `briefcase connectors validate FILE` and `doctor`: every problem of a connector file at once,
 * offline (no daemon). With `secretNames` (the vault's), a referenced secret that is not set is
 * a problem too.
 */
export function checkConnectorFile(
  path: string,
  secretNames?: readonly string[],
  o: { inConnectorDir?: boolean } = {},
): ConnectorCheck {
  const out: ConnectorCheck = { file: path, ok: false, tools: [], secrets: [], problems: [] };
  const read = readText(path, o.inConnectorDir === true);
  if (!read.ok) {
    out.problems.push({ file: path, at: '(file)', problem: read.problem, fix: read.fix });
    return out;
  }
  const text = read.text;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    out.problems.push({
      file: path,
      at: '(file)',
      problem: `not valid JSON: ${withLine(text, (e as Error).message)}`,
      fix: 'fix the JSON syntax where the message points (an editor with JSON support shows it)',
    });
    return out;
  }
  out.secrets = [...new Set([...text.matchAll(SECRET_REF)].map((m) => m[1]!))].sort();
  // Every stage, not the first that fails (connectorFromJson stops there): all problems at once.
  const lines = findSecretValues(raw).map((m) => `${path}: ${m}`);
  const parsed = HttpConnectorManifest.safeParse(raw);
  if (!parsed.success) lines.push(...formatIssues(path, parsed.error));
  else lines.push(...HttpConnectorTool.check(parsed.data).map((p) => `${path}: ${p}`));
  if (lines.length === 0) {
    const tool = connectorFromJson(raw, path);
    if (tool.ok) out.tools = [tool.value.descriptor.name];
    else lines.push(...tool.error);
  }
  out.problems.push(...lines.map((line) => problemOf(path, line)));
  if (secretNames) {
    for (const name of out.secrets) {
      if (secretNames.includes(name)) continue;
      out.problems.push({
        file: path,
        at: 'request.headers',
        problem: `references the secret "${name}", which is not set in the vault`,
        fix: `store it with \`${cliCommand('secrets', 'set', name)}\``,
      });
    }
  }
  out.ok = out.problems.length === 0;
  return out;
}

/** Every connector file in `dir`, checked. */
export function checkConnectorDir(dir: string, secretNames?: readonly string[]): ConnectorCheck[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => checkConnectorFile(join(dir, f), secretNames, { inConnectorDir: true }));
}

/** The names in the vault (vault.json keeps names in clear; values need the master key). */
export function vaultSecretNames(home: string): string[] | undefined {
  try {
    const file = JSON.parse(readFileSync(join(home, VAULT_FILE), 'utf8')) as { secrets?: Record<string, unknown> };
    return Object.keys(file.secrets ?? {});
  } catch {
    return existsSync(join(home, VAULT_FILE)) ? undefined : [];
  }
}

/** Secrets the remote servers' manifests give them that are not set. */
export function remoteSecretProblems(home: string, secretNames: readonly string[]): string[] {
  let remotes;
  try {
    remotes = loadRemotes(home);
  } catch (e) {
    return [(e as Error).message];
  }
  const out: string[] = [];
  for (const r of remotes) {
    for (const [variable, name] of Object.entries(effectiveAccess(r).secrets)) {
      if (!secretNames.includes(name)) {
        out.push(
          `remote server "${r.name}": ${variable} is the secret "${name}", which is not set in the vault: store it with \`${cliCommand(...homeArgsFor(home), 'secrets', 'set', name)}\``,
        );
      }
    }
  }
  return out;
}

/** `FILE: a.b: message` (connectorFromJson's form) → its parts, with what to do. */
function problemOf(path: string, line: string): ConnectorProblem {
  const rest = line.startsWith(`${path}: `) ? line.slice(path.length + 2) : line;
  const m = /^([A-Za-z0-9_.[\]()-]+): (.*)$/s.exec(rest);
  const at = m ? m[1]! : '(root)';
  const problem = m ? m[2]! : rest;
  return { file: path, at, problem, fix: fixFor(at, problem) };
}

function fixFor(at: string, problem: string): string {
  if (/literal secret|literal value/.test(problem))
    return `store the value with \`${cliCommand('secrets', 'set', 'NAME')}\` and write {{secret:NAME}} here instead`;
  if (/egress allowlist/.test(problem))
    return 'add the host to "access.network" (or the deprecated "egress"), or change request.url';
  if (/tool names use/.test(problem)) return 'rename it: 1-128 characters of A-Z a-z 0-9 _ - .';
  if (/secrets may only be referenced in headers/.test(problem))
    return 'move the {{secret:…}} reference into a request header';
  if (/Unrecognized key/i.test(problem)) return 'remove that key (docs/connectors.md lists the fields)';
  if (/Required|expected/i.test(problem)) return `give "${at}" a value of the expected type (docs/connectors.md)`;
  return `fix "${at}" (docs/connectors.md describes each field)`;
}

/** V8 names a character position; a person wants the line and column. */
function withLine(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return message;
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  return `${message} (line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
}

/**
 * A file in connectors/ is read as the daemon reads it (read-file.ts): a link or a FIFO planted
 * there is reported, never read, so doctor neither quotes another file's bytes nor keeps them in
 * cache/doctor.json. A path the person names (`connectors validate FILE`) is read as given.
 */
function readText(
  path: string,
  inConnectorDir: boolean,
): { ok: true; text: string } | { ok: false; problem: string; fix: string } {
  if (inConnectorDir) {
    const read = readConnectorFile(path, 1024 * 1024);
    return read.ok
      ? { ok: true, text: read.bytes.toString('utf8') }
      : { ok: false, problem: read.reason, fix: 'put the connector file itself in connectors/' };
  }
  try {
    return { ok: true, text: readFileSync(path, 'utf8') };
  } catch (e) {
    return { ok: false, problem: `cannot be read: ${(e as Error).message}`, fix: 'check the path' };
  }
}
