import type { DoctorCheck } from '@briefcase/console';
import { isolationSupport } from '@briefcase/sandbox';
import type { Services } from '../daemon.ts';

/** What the console's Doctor page shows: the same facts `briefcase doctor` checks, from inside. */
export async function consoleDoctor(s: Services): Promise<DoctorCheck[]> {
  const passkeys = s.presence.passkeys.count();
  const codes = s.presence.passkeys.unusedRecoveryCodes();
  const checks: DoctorCheck[] = [
    { name: 'daemon', ok: true, detail: `running since ${s.startedAt.toISOString()} (pid ${process.pid})` },
    {
      name: 'passkeys',
      ok: passkeys > 0,
      detail:
        passkeys > 0
          ? `${passkeys} enrolled; ${codes} unused recovery code${codes === 1 ? '' : 's'}`
          : 'none enrolled: approvals and admin changes are only as safe as admin.token',
    },
    {
      name: 'master_key',
      ok: s.keySource !== 'key_file',
      detail: `the vault master key comes from ${s.keySource}`,
    },
    { name: 'policy', ok: true, detail: `sha256 ${s.policy.hash.slice(0, 16)}…` },
    {
      name: 'approvals',
      ok: true,
      detail: `${s.approvals.list('pending').length} pending`,
    },
  ];
  const isolation = isolationSupport();
  checks.push({
    name: 'isolation',
    ok: isolation.ok,
    detail: isolation.ok
      ? `${isolation.detail}: stdio servers and command tools run sandboxed (${isolation.platform})`
      : `${isolation.detail}: stdio servers and command tools do not start unless their isolation is "none"`,
  });
  for (const t of s.registry.list()) {
    if (s.registry.get(t.name)?.access?.isolation === 'none') {
      checks.push({
        name: `isolation_${t.name}`,
        ok: false,
        detail: `${t.name} runs without the sandbox (isolation "none")`,
      });
    }
  }
  for (const k of Object.values(s.keys)) {
    checks.push({
      name: `key_${k.role}`,
      ok: k.nonExportable,
      detail: `${k.algorithm} on ${k.backend}${k.nonExportable ? ' (non-exportable)' : ' (software: can be copied)'}`,
    });
  }
  for (const r of s.remotes.list()) {
    checks.push({
      name: `remote_${r.name}`,
      ok: r.status === 'connected',
      detail: `${r.status}${r.error ? `: ${r.error}` : ''}`,
    });
    if (r.access.isolation === 'none') {
      checks.push({
        name: `isolation_${r.name}`,
        ok: false,
        detail: `${r.name} runs without the sandbox (isolation "none"): it has your user's files and network`,
      });
    }
  }
  return checks;
}
