import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildArgv,
  checkCommandTool,
  DEFINITION_FILE,
  limitHit,
  runProcess,
  stdinFor,
  type CommandToolManifest,
  type LimitHit,
} from '@briefcase/command-tools';
import { egressRules, startEgressProxy, type EgressProxy, type EgressViolation } from '@briefcase/egress';
import { BriefcaseError, err, ok, type Result, type ToolResult } from '@briefcase/protocol';
import { pidsLimitHits } from '@briefcase/sandbox';
import { removeCgroup, sandboxLaunch } from '../remote/sandboxed-stdio.ts';
import { launchProxy, proxyListen } from '../remote/sandbox-egress.ts';
import { textResult, type Tool, type ToolContext, type ToolOutput } from './tool.ts';

/** Where command tools live: `<data dir>/command-tools/<name>/` (tool.json, and `work/`, its own directory). */
export const commandToolsDir = (dataDir: string) => join(dataDir, 'command-tools');

/**
 * A command tool: one run of a local program per call, inside the same OS sandbox as a stdio MCP
 * server with the tool's access manifest (docs/sandbox.md): no network unless granted (then only
 * through an egress proxy of this call alone), a private /tmp, its own `work/` directory as HOME,
 * and its limits. The result is stdout; a non-zero exit is a tool error; a refused request, the
 * time limit or the output limit is `sandbox_violation`, receipted once by the pipeline.
 */
export class CommandToolAdapter implements Tool {
  readonly descriptor: Tool['descriptor'];
  readonly server = 'briefcase';
  readonly tags: string[];
  readonly sensitiveArgs: string[] = [];
  readonly reads: string | null;
  readonly changes: string | null;
  readonly currency = 'USD';
  readonly manifest: CommandToolManifest;
  readonly access: CommandToolManifest['access'];
  readonly #dir: string;

  constructor(manifest: CommandToolManifest, dir: string) {
    this.manifest = manifest;
    this.access = manifest.access;
    this.#dir = dir;
    this.descriptor = {
      name: manifest.name,
      ...(manifest.title ? { title: manifest.title } : {}),
      description: manifest.description,
      category: manifest.category,
      origin: 'sandbox',
      inputSchema: manifest.input_schema,
      annotations: { readOnlyHint: manifest.category === 'read', openWorldHint: manifest.access.network.length > 0 },
    };
    this.tags = manifest.tags;
    this.reads = manifest.reads ?? null;
    this.changes = manifest.changes ?? null;
  }

  estimateCost(): number {
    return 0;
  }

  async execute(args: Record<string, unknown>, ctx: ToolContext): Promise<ToolOutput> {
    const m = this.manifest;
    const [program, ...rest] = buildArgv(m, args);
    const env: Record<string, string> = {};
    for (const name of m.access.env) {
      const value = process.env[name];
      if (value !== undefined) env[name] = value;
    }
    for (const [name, secret] of Object.entries(m.access.secrets)) env[name] = ctx.secret(secret).expose();
    const work = join(this.#dir, 'work');
    mkdirSync(work, { recursive: true, mode: 0o700 });
    const callId = randomBytes(6).toString('hex');
    const violations: EgressViolation[] = [];
    const stopOnViolation = new AbortController();
    const proxy = await callProxy(ctx.dataDir, callId, m, (v) => {
      violations.push(v);
      stopOnViolation.abort(); // fail closed: the run ends at its first refused request
    });
    let launch: ReturnType<typeof sandboxLaunch> | undefined;
    try {
      launch =
        m.access.isolation === 'none'
          ? { command: program!, args: rest, env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...env }, cwd: work }
          : sandboxLaunch({
              server: m.name,
              command: program!,
              args: rest,
              cwd: undefined,
              env,
              access: m.access,
              dataDir: ctx.dataDir,
              toolDir: work,
              cgroupKey: `cmd-${m.name}-${callId}`,
              proxy: proxy ? launchProxy(proxy) : undefined,
            });
      const cgroup = launch.cgroup;
      const outcome = await runProcess({
        command: launch.command,
        args: launch.args,
        env: launch.env,
        cwd: launch.cwd,
        stdin: stdinFor(m, args),
        timeoutMs: m.timeout_ms,
        maxOutputBytes: m.max_output_bytes,
        signal: AbortSignal.any([ctx.signal, stopOnViolation.signal]),
        // Fail closed at the first fork the kernel refused (a pids cgroup: a daemon run as root).
        overLimit: cgroup ? () => pidsLimitHits(cgroup) > 0 : undefined,
      }).catch((e: Error) => {
        throw new BriefcaseError('unavailable', `${m.name} could not start`, e.message);
      });
      if (violations[0]) throw violations[0];
      if (outcome.stopped === 'timeout') {
        throw new BriefcaseError(
          'sandbox_violation',
          `${m.name} ran past its time limit`,
          `timeout ${m.timeout_ms} ms`,
        );
      }
      if (outcome.stopped === 'output_limit') {
        throw new BriefcaseError(
          'sandbox_violation',
          `${m.name} wrote more than its output limit`,
          `output over ${m.max_output_bytes} bytes`,
        );
      }
      if (outcome.stopped === 'aborted') throw new BriefcaseError('unavailable', 'the call was cancelled');
      const hit = outcome.stopped === 'limit' ? 'processes' : limitHit(outcome);
      if (hit) throw limitViolation(m, hit);
      if (outcome.exitCode !== 0) {
        const why =
          outcome.exitCode === null ? `was killed (${outcome.signal ?? 'signal'})` : `exited with ${outcome.exitCode}`;
        const stderr = outcome.stderrTail.trim().slice(-2000);
        return { result: textResult(`${m.name} ${why}${stderr ? `: ${stderr}` : ''}`, true) };
      }
      return { result: toResult(m, outcome.stdout) };
    } finally {
      await proxy?.close();
      if (proxy?.socketPath) rmSync(proxy.socketPath, { force: true });
      if (launch?.cgroup) removeCgroup(launch.cgroup);
    }
  }
}

/** A run that ran into one of its manifest's limits: `sandbox_violation`, the limit in the receipt. */
function limitViolation(m: CommandToolManifest, hit: LimitHit): BriefcaseError {
  const l = m.access.limits;
  const [what, detail] =
    hit === 'memory'
      ? ['memory', `memory limit ${l.memory_mb} MiB: an allocation failed`]
      : hit === 'processes'
        ? ['process', `process limit ${l.processes}: a fork was refused`]
        : ['CPU time', `cpu limit ${l.cpu_seconds} s`];
  return new BriefcaseError('sandbox_violation', `${m.name} ran into its ${what} limit`, detail);
}

/** An egress proxy for one run alone (so a refusal belongs to this call), when network is granted. */
async function callProxy(
  dataDir: string,
  callId: string,
  m: CommandToolManifest,
  onViolation: (v: EgressViolation) => void,
): Promise<EgressProxy | undefined> {
  if (m.access.isolation === 'none' || m.access.network.length === 0) return undefined;
  const dir = join(dataDir, 'run');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return startEgressProxy({
    listen: proxyListen(join(dir, `cmd-${callId}.sock`)),
    rules: egressRules(m.access),
    onViolation,
  });
}

function toResult(m: CommandToolManifest, stdout: string): ToolResult {
  if (m.output === 'json') {
    try {
      const parsed = JSON.parse(stdout) as unknown;
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return { content: [{ type: 'text', text: stdout }], structuredContent: parsed as Record<string, unknown> };
      }
    } catch {
      // Not one JSON object: the text alone.
    }
  }
  return textResult(stdout);
}

/** Load `<dir>/tool.json`; `where` names it in every problem. */
export function loadCommandTool(dir: string): Result<CommandToolAdapter, string[]> {
  const path = join(dir, DEFINITION_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return err([`${path}: not readable JSON: ${(e as Error).message}`]);
  }
  const checked = checkCommandTool(raw, path);
  return checked.ok ? ok(new CommandToolAdapter(checked.value, dir)) : checked;
}

/** Every command tool under `<data dir>/command-tools/<name>/`; a directory not named after its tool is a problem. */
export function loadCommandTools(root: string): { tools: CommandToolAdapter[]; problems: string[] } {
  const tools: CommandToolAdapter[] = [];
  const problems: string[] = [];
  if (!existsSync(root)) return { tools, problems };
  for (const name of readdirSync(root).sort()) {
    if (name.endsWith('.adding')) continue;
    const loaded = loadCommandTool(join(root, name));
    if (!loaded.ok) problems.push(...loaded.error);
    else if (loaded.value.manifest.name !== name)
      problems.push(`${join(root, name)}: holds the tool "${loaded.value.manifest.name}"`);
    else tools.push(loaded.value);
  }
  return { tools, problems };
}
