/**
 * `npm run bench [-- --json]`: every benchmark, one after the other, on this machine. Figures
 * only: nothing here passes or fails the test suite. See docs/benchmarks.md for the method.
 */
import { run as cliStartup } from './cli-startup.ts';
import { run as codeTools } from './code-tools.ts';
import { run as commandTool } from './command-tool.ts';
import { run as gateway } from './gateway-overhead.ts';
import { run as payments } from './payments.ts';
import { run as paymentsL402 } from './payments-l402.ts';
import { run as remote } from './remote-overhead.ts';
import { run as sandbox } from './sandbox.ts';
import { run as signRate } from './sign-rate.ts';

const json = process.argv.includes('--json');
/** `--only gateway,remote`: just those (JSON only; the summary below needs every benchmark). */
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt === -1 ? null : new Set(process.argv[onlyAt + 1]?.split(','));
const log = (m: string) => {
  if (!json) process.stderr.write(`${m}\n`);
};
const benchmarks = {
  gateway,
  remote,
  sandbox,
  keys: signRate,
  cli: cliStartup,
  codeTools,
  payments,
  paymentsL402,
  commandTool,
};
if (only) {
  const picked: Record<string, unknown> = {};
  for (const [name, bench] of Object.entries(benchmarks)) if (only.has(name)) picked[name] = await bench(log);
  process.stdout.write(`${JSON.stringify(picked, null, 2)}\n`);
  process.exit(0);
}
const results = {
  gateway: await gateway(log),
  remote: await remote(log),
  sandbox: await sandbox(log),
  keys: await signRate(log),
  cli: await cliStartup(log),
  codeTools: await codeTools(log),
  payments: await payments(log),
  paymentsL402: await paymentsL402(log),
  commandTool: await commandTool(log),
};
if (json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else {
  const g = results.gateway;
  const r = results.remote;
  const line = (label: string, p: { p50: number; p95: number; p99: number }) =>
    console.log(`${label.padEnd(34)} p50 ${p.p50} ms  p95 ${p.p95} ms  p99 ${p.p99} ms`);
  const cpu = g.cpu_us_per_call;
  console.log(
    `gateway: CPU per call                gateway ${cpu.briefcase.gateway} + daemon ${cpu.briefcase.daemon} = ${cpu.briefcase.sum} µs (direct server ${cpu.direct.server} µs, ×${cpu.ratio_to_direct})`,
  );
  console.log(
    `gateway: resident size               gateway ${g.rss_mib.briefcase.gateway} MiB, daemon ${g.rss_mib.briefcase.daemon} MiB (direct server ${g.rss_mib.direct.server} MiB)`,
  );
  line('gateway: direct', g.latency_ms.direct);
  line('gateway: through the Briefcase', g.latency_ms.briefcase);
  line('gateway: overhead', g.latency_ms.overhead);
  console.log(
    `gateway: throughput 1 / 16 clients  ${g.throughput_calls_per_s.briefcase.clients_1} / ${g.throughput_calls_per_s.briefcase.clients_16} calls/s (direct ${g.throughput_calls_per_s.direct.clients_1} / ${g.throughput_calls_per_s.direct.clients_16})`,
  );
  line('remote stdio: added', r.latency_ms.stdio.added);
  line('remote HTTP: added', r.latency_ms.http.added);
  console.log(
    `remote cold start (3 stdio servers)  ${r.cold_start_ms.three_servers} ms (${r.cold_start_ms.per_server.join(', ')})`,
  );
  const sb = results.sandbox;
  if ('skipped' in sb) console.log(`sandbox: skipped: ${sb.skipped}`);
  else {
    line('sandbox: start-up unsandboxed', sb.startup_ms.unsandboxed);
    line('sandbox: start-up sandboxed', sb.startup_ms.sandboxed);
    line('sandbox: set-up (/usr/bin/true) added', sb.exec_true_ms.added);
    line('sandbox: per-call added', sb.call_ms.added);
  }
  const k = results.keys as Record<
    string,
    { signs_per_s?: number; latency_ms?: { p50: number; p99: number }; skipped?: string }
  >;
  for (const backend of ['software_ed25519', 'software_p256', 'softhsm_p256', 'tpm_p256']) {
    const b = k[backend];
    if (!b) continue;
    console.log(
      b.skipped
        ? `sign rate: ${backend.padEnd(24)} skipped: ${b.skipped}`
        : `sign rate: ${backend.padEnd(24)} ${b.signs_per_s}/s  p50 ${b.latency_ms!.p50} ms  p99 ${b.latency_ms!.p99} ms`,
    );
  }
  for (const [command, p] of Object.entries(results.cli.commands)) {
    console.log(
      `cli start-up: ${command.padEnd(21)} p50 ${p.p50} ms  p90 ${p.p90} ms  (target ${p.target} ms: ${p.met ? 'met' : 'MISSED'})`,
    );
  }
  const c = results.codeTools.latency_ms;
  line('code tools: builtin echo', c.builtin);
  line('code tools: QuickJS echo', c.quickjs);
  line('code tools: QuickJS overhead', c.quickjs_overhead);
  line('code tools: WebAssembly echo', c.wasm);
  line('code tools: WebAssembly overhead', c.wasm_overhead);
  const p = results.payments;
  if ('skipped' in p) console.log(`payments: skipped: ${p.skipped}`);
  else {
    line('payments: x402 unpaid call', p.x402.unpaid_ms);
    line('payments: x402 paid call', p.x402.paid_ms);
    line('payments: x402 added by paying', p.x402.added_ms);
  }
  const l = results.paymentsL402;
  if ('skipped' in l) console.log(`payments: L402 skipped: ${l.skipped}`);
  else {
    line('payments: L402 unpaid call', l.l402.unpaid_ms);
    line('payments: L402 paid call', l.l402.paid_ms);
    line('payments: L402 token reused', l.l402.reused_token_ms);
    line('payments: L402 added by paying', l.l402.added_ms);
  }
  const ct = results.commandTool;
  if ('skipped' in ct) console.log(`command tool: skipped: ${ct.skipped}`);
  else {
    line('command tool: jq unsandboxed', ct.run_ms.unsandboxed);
    line('command tool: jq sandboxed', ct.run_ms.sandboxed);
    line('command tool: sandbox added', ct.run_ms.added);
  }
}
