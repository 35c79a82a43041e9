import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { cpuMs, procAvailable } from '../bench/proc.ts';
import { cli, ROOT, startDaemon, stdioClientWithPid, tempHome, type DaemonProcess } from './helpers.ts';

/**
 * The committed reference: CPU per call through `briefcase mcp` + briefcased, as a multiple of
 * the plain SDK server's CPU per call for the same echo call, measured in the same run.
 */
interface Reference {
  ratio: number;
  tolerance: number;
}
const reference = JSON.parse(readFileSync(join(ROOT, 'bench/reference.json'), 'utf8')) as Reference;

/** Enough for both processes' hot paths to be compiled (V8 tiers up after a few hundred calls). */
const WARMUP = 300;
const ROUNDS = 5;
/**
 * Per round. /proc counts CPU in 10 ms ticks: the direct server spends ~0.1 ms a call, so it gets
 * ten times the calls for its total to span tens of ticks, like the gateway's and the daemon's.
 */
const THROUGH_CALLS = 60;
const DIRECT_CALLS = 600;
/** Measurements before failing: the first within the limit passes. */
const ATTEMPTS = 3;

async function calls(client: Client, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await client.callTool({ name: 'echo', arguments: { text: `call ${i}` } });
    assert.notEqual(r.isError, true, JSON.stringify(r));
  }
}

/**
 * Issue 13, AC 3: CPU per call must not grow more than 50% over the reference. CPU time, not
 * latency, and as a ratio to a baseline measured in the same run, so a loaded or slower machine
 * moves both sides: the rounds alternate between the two paths, so a change of load mid-run
 * lands on both. Each process is measured from outside (/proc), only during its own path's calls.
 */
describe('CPU per call, gateway + daemon against the plain SDK server (issue 13, AC 3)', () => {
  const skip = procAvailable() ? false : 'needs Linux /proc to read the CPU time of the processes';
  const { home, cleanup } = tempHome();
  let daemon: DaemonProcess | undefined;

  before(async () => {
    if (skip) return;
    assert.equal(cli(home, ['init', '--master-key', 'file']).code, 0);
    daemon = await startDaemon(home);
  });
  after(async () => {
    await daemon?.stop();
    cleanup();
  });

  it(
    `stays within ${reference.tolerance * 100}% of the committed ratio (bench/reference.json)`,
    { skip },
    async (t) => {
      const through = await stdioClientWithPid(home);
      const directTransport = new StdioClientTransport({
        command: process.execPath,
        args: [join(ROOT, 'bench/plain-echo-server.ts')],
        env: { PATH: process.env.PATH ?? '' },
        stderr: 'ignore',
      });
      const direct = new Client({ name: 'perf-regression', version: '1.0.0' });
      await direct.connect(directTransport);
      const pids = { gateway: through.pid, daemon: daemon!.proc.pid!, direct: directTransport.pid! };
      try {
        await calls(through.client, WARMUP);
        await calls(direct, WARMUP);
        const limit = reference.ratio * (1 + reference.tolerance);
        /** One measurement: ROUNDS alternating rounds of both paths; the ratio of CPU per call. */
        const measureRatio = async () => {
          const spent = { through: 0, direct: 0 };
          const measure = async (path: 'through' | 'direct') => {
            const watched = path === 'through' ? [pids.gateway, pids.daemon] : [pids.direct];
            const before = watched.reduce((sum, pid) => sum + cpuMs(pid), 0);
            await (path === 'through' ? calls(through.client, THROUGH_CALLS) : calls(direct, DIRECT_CALLS));
            spent[path] += watched.reduce((sum, pid) => sum + cpuMs(pid), 0) - before;
          };
          for (let round = 0; round < ROUNDS; round++) {
            await measure('through');
            await measure('direct');
          }
          const throughUs = (spent.through * 1000) / (ROUNDS * THROUGH_CALLS);
          const directUs = (spent.direct * 1000) / (ROUNDS * DIRECT_CALLS);
          assert.ok(directUs > 0, 'the direct server spent no measurable CPU: too few calls for /proc ticks');
          t.diagnostic(
            `gateway + daemon ${Math.round(throughUs)} µs/call, direct ${Math.round(directUs)} µs/call: ratio ${(throughUs / directUs).toFixed(2)} (reference ${reference.ratio}, limit ${limit.toFixed(2)})`,
          );
          return throughUs / directUs;
        };
        // Contention from other work inflates the three-process path more than the direct one
        // (measured: 12-27 for the same code on this shared VM). A real regression is over the
        // limit every time; a burst of load, rarely three measurements in a row.
        const ratios: number[] = [];
        for (let attempt = 0; attempt < ATTEMPTS && !(ratios.length > 0 && ratios.at(-1)! <= limit); attempt++) {
          ratios.push(await measureRatio());
        }
        const best = Math.min(...ratios);
        assert.ok(
          best <= limit,
          `CPU per call through the Briefcase is ${ratios.map((r) => r.toFixed(2)).join(', ')}× the plain SDK server's in ${ratios.length} measurements, over the limit of ${limit.toFixed(2)}× (reference ${reference.ratio}× + ${reference.tolerance * 100}%): profile the gateway and the daemon (docs/benchmarks.md, "Where the time goes") before raising bench/reference.json`,
        );
      } finally {
        await through.client.close();
        await direct.close();
      }
    },
  );
});
