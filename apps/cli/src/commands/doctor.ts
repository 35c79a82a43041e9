import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cliCommand, homeArgsFor } from '@briefcase/protocol/invocation';
import { join } from 'node:path';
// The daemon's modules one by one, not its index (which loads the whole daemon): start-up time.
import { loadConfig } from '@briefcase/briefcased/config';
import { softwareKeysWarning } from '@briefcase/briefcased/init';
import type { DataPaths } from '@briefcase/briefcased/paths';
import { KEY_ROLES, readPaymentKey, readPublicKey, readPublicKeys } from '@briefcase/keys';
import { compilePolicy } from '@briefcase/policy';
import { isolationSupport, processLimitHolds } from '@briefcase/sandbox';
import { loadMasterKey, masterKeyExists } from '@briefcase/vault';
import type { AdminClient } from '../client.ts';
import { print, printJson } from '../output.ts';

export interface Check {
  code: string;
  ok: boolean;
  level: 'info' | 'warning' | 'error';
  message: string;
}

const pass = (code: string, message: string): Check => ({ code, ok: true, level: 'info', message });
const fail = (code: string, message: string): Check => ({ code, ok: false, level: 'error', message });

/** Local checks need no daemon; the daemon check runs last. Codes are stable. */
export async function doctorChecks(paths: DataPaths, client: AdminClient | null): Promise<Check[]> {
  const checks: Check[] = [];
  if (!existsSync(paths.home)) {
    checks.push(
      fail(
        'data_dir_missing',
        `${paths.home} does not exist: run \`${cliCommand(...homeArgsFor(paths.home), 'init')}\``,
      ),
    );
    return checks;
  }
  checks.push(permissionsCheck(paths.home));

  try {
    loadConfig(paths.config);
    checks.push(pass('config_valid', `${paths.config} is valid`));
  } catch (e) {
    checks.push(fail('config_invalid', (e as Error).message));
  }
  if (existsSync(paths.policy)) {
    const compiled = compilePolicy(readFileSync(paths.policy, 'utf8'));
    checks.push(
      compiled.ok
        ? pass('policy_valid', `${paths.policy} is valid (${compiled.value.ids.length} policies)`)
        : fail('policy_invalid', `${paths.policy}: ${compiled.error.join('; ')}`),
    );
  } else
    checks.push(
      fail(
        'policy_missing',
        `${paths.policy} does not exist: run \`${cliCommand(...homeArgsFor(paths.home), 'init')}\``,
      ),
    );
  checks.push(...(await connectorChecks(paths)));

  const source = masterKeyExists(paths.home);
  const receiptsKey = readPublicKey(paths.home, 'receipts');
  if (!source)
    checks.push(fail('keys_missing', `no vault master key: run \`${cliCommand(...homeArgsFor(paths.home), 'init')}\``));
  else if (!receiptsKey)
    checks.push(
      fail('keys_missing', `no receipt-signing key: run \`${cliCommand(...homeArgsFor(paths.home), 'init')}\``),
    );
  else {
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
  }

  checks.push(...sandboxChecks());

  const year = new Date().getUTCFullYear();
  checks.push(
    year >= 2025 && year < 2100
      ? pass('clock_sane', `system clock reads ${new Date().toISOString()}`)
      : fail(
          'clock_insane',
          `system clock reads ${new Date().toISOString()}: approvals and receipts need a correct clock`,
        ),
  );

  if (!client) checks.push(fail('daemon_unreachable', 'not initialised'));
  else {
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
  }
  return checks;
}

/**
 * Every problem of every connector file at once (one check each), and every secret a connector
 * or a remote server's manifest references that the vault does not hold.
 */
async function connectorChecks(paths: DataPaths): Promise<Check[]> {
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
function sandboxChecks(): Check[] {
  const s = isolationSupport();
  if (!s.ok) {
    return [
      {
        code: s.mechanism === null ? 'unsupported_platform' : 'sandbox_unavailable',
        ok: false,
        level: 'warning',
        message: `${s.detail}: stdio MCP servers and command tools will not start (unless an admin sets their isolation to "none")`,
      },
    ];
  }
  const checks = [
    pass('sandbox_available', `${s.detail}: stdio MCP servers and command tools run in their sandbox (${s.platform})`),
  ];
  if (s.mechanism === 'bubblewrap' && !processLimitHolds()) {
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

export async function doctor(paths: DataPaths, client: AdminClient | null, json: boolean): Promise<number> {
  const checks = await doctorChecks(paths, client);
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
