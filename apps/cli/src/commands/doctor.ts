import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { cliCommand, homeArgsFor } from '@briefcase/protocol/invocation';
import type { DataPaths } from '@briefcase/briefcased/paths';
import type { AdminClient } from '../client.ts';
import { print, printJson } from '../output.ts';
import { cached, contentKey, sha256Hex } from './doctor-cache.ts';

export interface Check {
  code: string;
  ok: boolean;
  level: 'info' | 'warning' | 'error';
  message: string;
}

export interface DoctorOptions {
  /** Redo the slow checks instead of reusing their cached results (`doctor --deep`). */
  deep?: boolean;
}

const pass = (code: string, message: string): Check => ({ code, ok: true, level: 'info', message });
const fail = (code: string, message: string): Check => ({ code, ok: false, level: 'error', message });

/**
 * Every check, run at once (each loads its own modules when it runs: start-up time, issue 11),
 * listed in a fixed order; every problem is reported, none stops the others. Codes are stable.
 * The slow ones (loading the config and connector schemas, compiling the policy with Cedar,
 * running bubblewrap) reuse their last result while what they checked is unchanged
 * (doctor-cache.ts), unless `deep`.
 */
export async function doctorChecks(
  paths: DataPaths,
  client: AdminClient | null,
  o: DoctorOptions = {},
): Promise<Check[]> {
  if (!existsSync(paths.home))
    return [
      fail(
        'data_dir_missing',
        `${paths.home} does not exist: run \`${cliCommand(...homeArgsFor(paths.home), 'init')}\``,
      ),
    ];
  const deep = o.deep === true;
  // Started first: the daemon answers while the local checks run.
  const daemon = daemonChecks(client);
  const groups = await Promise.all(
    [
      async () => [permissionsCheck(paths.home)],
      () => configChecks(paths, deep),
      () => policyChecks(paths, deep),
      () => connectorChecks(paths, deep),
      () => keyChecks(paths),
      () => sandboxChecks(paths, deep),
      async () => [clockCheck()],
      () => daemon,
    ].map((check) =>
      check().catch((e: unknown) => [fail('doctor_check_failed', `a check could not run: ${(e as Error).message}`)]),
    ),
  );
  return groups.flat();
}

/** The config schema is a large part of start-up: the result is kept per the file's contents. */
async function configChecks(paths: DataPaths, deep: boolean): Promise<Check[]> {
  const r = await cached(paths.home, 'config', contentKey([paths.config]), deep, async () => {
    const { loadConfig } = await import('@briefcase/briefcased/config');
    try {
      loadConfig(paths.config);
      return { ok: true };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  });
  return [r.ok ? pass('config_valid', `${paths.config} is valid`) : fail('config_invalid', String(r['error']))];
}

/** Cedar's WebAssembly compiles the policy in ~0.25 s: the result is kept per content hash. */
async function policyChecks(paths: DataPaths, deep: boolean): Promise<Check[]> {
  if (!existsSync(paths.policy))
    return [
      fail(
        'policy_missing',
        `${paths.policy} does not exist: run \`${cliCommand(...homeArgsFor(paths.home), 'init')}\``,
      ),
    ];
  const text = readFileSync(paths.policy, 'utf8');
  const result = await cached(paths.home, 'policy', sha256Hex(text), deep, async () => {
    const { compilePolicy } = await import('@briefcase/policy');
    const compiled = compilePolicy(text);
    return compiled.ok ? { ok: true, count: compiled.value.ids.length } : { ok: false, errors: compiled.error };
  });
  return [
    result.ok
      ? pass('policy_valid', `${paths.policy} is valid (${String(result['count'])} policies)`)
      : fail('policy_invalid', `${paths.policy}: ${(result['errors'] as string[]).join('; ')}`),
  ];
}

async function keyChecks(paths: DataPaths): Promise<Check[]> {
  const [
    { KEY_ROLES, readPaymentKey, readPublicKey, readPublicKeys },
    { loadMasterKey, masterKeyExists },
    { softwareKeysWarning },
  ] = await Promise.all([
    import('@briefcase/keys'),
    import('@briefcase/vault'),
    import('@briefcase/briefcased/key-warnings'),
  ]);
  const checks: Check[] = [];
  const source = masterKeyExists(paths.home);
  const receiptsKey = readPublicKey(paths.home, 'receipts');
  if (!source)
    return [fail('keys_missing', `no vault master key: run \`${cliCommand(...homeArgsFor(paths.home), 'init')}\``)];
  if (!receiptsKey)
    return [fail('keys_missing', `no receipt-signing key: run \`${cliCommand(...homeArgsFor(paths.home), 'init')}\``)];
  checks.push(pass('keys_present', `vault master key (${source}) and receipt-signing key ${receiptsKey.keyId}`));
  if (source === 'keychain') {
    // The daemon cannot start if the keychain is locked or its entry gone: say so before it tries.
    try {
      await loadMasterKey(paths.home);
      checks.push(pass('master_key_reachable', 'the vault master key is in the OS keychain and opens the vault'));
    } catch (e) {
      checks.push(fail('master_key_unreachable', (e as Error).message));
    }
  }
  // One line per role: where its key lives (code `key_<role>`), then the warning if any is software.
  for (const role of KEY_ROLES) {
    const [current] = readPublicKeys(paths.home, role);
    if (!current) continue;
    const where =
      current.backend === 'software'
        ? 'software, exportable by anyone with the vault master key'
        : `${current.backend}, non-exportable`;
    checks.push(pass(`key_${role}`, `${role}: ${current.algorithm} key ${current.keyId} (${where})`));
  }
  const payment = readPaymentKey(paths.home);
  if (payment) {
    const where =
      payment.backend === 'software'
        ? 'software, exportable by anyone with the vault master key'
        : `${payment.backend}, non-exportable`;
    checks.push(pass('key_payment', `payment: ES256K wallet ${payment.address} (${where})`));
  }
  const w = softwareKeysWarning(paths.home, source);
  if (w) checks.push({ code: w.code, ok: true, level: 'warning', message: w.message });
  return checks;
}

function clockCheck(): Check {
  const year = new Date().getUTCFullYear();
  return year >= 2025 && year < 2100
    ? pass('clock_sane', `system clock reads ${new Date().toISOString()}`)
    : fail(
        'clock_insane',
        `system clock reads ${new Date().toISOString()}: approvals and receipts need a correct clock`,
      );
}

async function daemonChecks(client: AdminClient | null): Promise<Check[]> {
  if (!client) return [fail('daemon_unreachable', 'not initialised')];
  const checks: Check[] = [];
  try {
    const status = await client.get<{ pid: number; version: string; receipts: { seq: number } }>('/v1/admin/status');
    checks.push(
      pass(
        'daemon_reachable',
        `briefcased ${status.version} (pid ${status.pid}) answers; ${status.receipts.seq} receipts`,
      ),
    );
    // What the running daemon disabled (not approved, a name clash): not visible offline.
    const { connectors } = await client.get<{ connectors: { file: string; state: string; reason: string | null }[] }>(
      '/v1/admin/connectors',
    );
    for (const k of connectors.filter((x) => x.state !== 'ok')) {
      checks.push(fail('connector_disabled', `${k.file}: disabled by the daemon: ${k.reason ?? 'no reason given'}`));
    }
  } catch (e) {
    checks.push(fail('daemon_unreachable', (e as Error).message));
  }
  return checks;
}

/**
 * Every problem of every connector file at once (one check each), and every secret a connector
 * or a remote server's manifest references that the vault does not hold.
 */
async function connectorChecks(paths: DataPaths, deep: boolean): Promise<Check[]> {
  // Loading the connector schemas is most of the cost: the result is kept per the contents of
  // what it reads (the connector files, vault.json's names, remotes.json) and the command line
  // its messages print.
  const dir = existsSync(paths.connectors) ? readdirSync(paths.connectors).filter((f) => f.endsWith('.json')) : [];
  const key = contentKey([
    process.argv[1] ?? '',
    ...[join(paths.home, 'vault.json'), join(paths.home, 'remotes.json')],
    ...dir.sort().map((f) => join(paths.connectors, f)),
  ]);
  const kept = await cached(paths.home, 'connectors', key, deep, async () => ({
    ok: true,
    checks: await connectorChecksNow(paths),
  }));
  return kept['checks'] as Check[];
}

async function connectorChecksNow(paths: DataPaths): Promise<Check[]> {
  const { checkConnectorDir, remoteSecretProblems, vaultSecretNames } =
    await import('@briefcase/briefcased/connectors-check');
  const names = vaultSecretNames(paths.home);
  const files = checkConnectorDir(paths.connectors, names);
  const checks: Check[] = [];
  for (const f of files) {
    for (const p of f.problems) {
      const missing = p.problem.includes('not set in the vault');
      checks.push(
        fail(missing ? 'secret_missing' : 'connector_invalid', `${p.file}: at ${p.at}: ${p.problem}; ${p.fix}`),
      );
    }
  }
  if (names) for (const m of remoteSecretProblems(paths.home, names)) checks.push(fail('secret_missing', m));
  else checks.push(fail('vault_unreadable', `${paths.home}/vault.json cannot be read: secrets were not checked`));
  if (checks.length === 0) {
    const tools = files.reduce((n, f) => n + f.tools.length, 0);
    checks.push(
      pass('connectors_valid', `${files.length} connector files, ${tools} tools; every secret they use is set`),
    );
  }
  return checks;
}

/**
 * Which OS sandbox stdio MCP servers and command tools get here, and why not (issue 10;
 * docs/sandbox.md): bubblewrap on Linux, sandbox-exec on macOS (untested there), none on Windows.
 */
async function sandboxChecks(paths: DataPaths, deep: boolean): Promise<Check[]> {
  const { findExecutable, isolationSupport, processLimitHolds } = await import('@briefcase/sandbox');
  // Running bubblewrap is the slow part: its answer is kept per binary (path, size, mtime), kernel
  // and user, and asked again when any of them changes (or with --deep).
  const override = process.env['BRIEFCASE_BWRAP'];
  const bwrap = override ?? findExecutable('bwrap');
  const stat = bwrap ? statSync(bwrap, { throwIfNoEntry: false }) : undefined;
  const key = [process.platform, release(), process.getuid?.(), bwrap, stat?.size, stat?.mtimeMs, override].join('|');
  const s = await cached(paths.home, 'sandbox', key, deep || process.platform !== 'linux', async () => {
    const support = isolationSupport();
    return { ...support, processLimitHolds: support.mechanism !== 'bubblewrap' || processLimitHolds() };
  });
  if (!s.ok) {
    return [
      {
        code: s['mechanism'] === null ? 'unsupported_platform' : 'sandbox_unavailable',
        ok: false,
        level: 'warning',
        message: `${String(s['detail'])}: stdio MCP servers and command tools will not start (unless an admin sets their isolation to "none")`,
      },
    ];
  }
  const checks = [
    pass(
      'sandbox_available',
      `${String(s['detail'])}: stdio MCP servers and command tools run in their sandbox (${String(s['platform'])})`,
    ),
  ];
  if (s['processLimitHolds'] !== true) {
    checks.push({
      code: 'sandbox_process_limit',
      ok: false,
      level: 'warning',
      message:
        'running as root without a writable pids cgroup: the kernel does not apply the process limit to root, so a sandboxed server may start any number of processes',
    });
  }
  return checks;
}

function permissionsCheck(home: string): Check {
  const problems: string[] = [];
  const dirMode = statSync(home).mode & 0o777;
  if (dirMode & 0o077) problems.push(`${home} is ${dirMode.toString(8)} (want 700)`);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) {
        const m = statSync(p).mode & 0o777;
        if (m & 0o077) problems.push(`${p} is ${m.toString(8)} (want 700)`);
        walk(p);
      } else if (entry.isFile() || entry.isSocket()) {
        const m = statSync(p).mode & 0o777;
        if (m & 0o077) problems.push(`${p} is ${m.toString(8)} (want 600)`);
      }
    }
  };
  walk(home);
  return problems.length === 0
    ? pass('data_dir_permissions', `${home} and everything in it is private to this user`)
    : fail(
        'data_dir_permissions',
        `${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`,
      );
}

export async function doctor(
  paths: DataPaths,
  client: AdminClient | null,
  json: boolean,
  o: DoctorOptions = {},
): Promise<number> {
  const checks = await doctorChecks(paths, client, o);
  const ok = checks.every((c) => c.ok);
  // The contract: a list of checks, each with a stable code; the exit code says whether all passed.
  if (json) printJson(checks);
  else {
    for (const c of checks)
      print(`${c.ok ? (c.level === 'warning' ? 'WARN' : ' ok ') : 'FAIL'}  ${c.code.padEnd(22)} ${c.message}`);
    print(ok ? '\nAll checks passed.' : '\nSome checks failed.');
  }
  return ok ? 0 : 1;
}
