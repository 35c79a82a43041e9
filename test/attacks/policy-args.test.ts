import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { cli, receiptRecords, startDaemon, stdioClient, tempHome, type DaemonProcess } from '../helpers.ts';
import { callTool, looseConnector, receiptFor, startUpstream, type Upstream } from './lib/policy-args.ts';

/**
 * Issue 8, class 2: policy fails open on arguments. The attacker is the agent (prompt-injected),
 * choosing the JSON type of an argument the tool's schema leaves untyped. Promise (docs/policy.md,
 * "Writing safe argument conditions"): a forbid whose condition errors denies the call, and no
 * argument is ever read by Cedar as an entity or an extension value.
 */
const POLICY = `
@id("transfers") permit(principal, action, resource) when { resource.name == "bank.transfer" };
@id("big-transfers") forbid(principal, action, resource)
when { context.args has amount && context.args.amount > 100 };

@id("dev-deploys") permit(principal, action, resource)
when { resource.name == "ops.deploy" && context.args has env && context.args.env == "dev" };

// Written as if arguments could be IP addresses: only an extension value could satisfy it.
@id("internal-hosts") permit(principal, action, resource)
when { resource.name == "net.probe" && context.args has host && context.args.host.isInRange(ip("10.0.0.0/8")) };

// Overflows for large n: a run-time evaluation error in a permit.
@id("small-counts") permit(principal, action, resource)
when { resource.name == "ledger.count" && context.args has n && context.args.n * 4 > 0 };
`;

const ADMIN = { __entity: { type: 'Briefcase::Admin', id: 'admin' } };
const DECIMAL = { __extn: { fn: 'decimal', arg: '1.0' } };

describe('attack: the agent picks the type of an argument a policy tests (issue 8 class 2)', () => {
  const { home, cleanup } = tempHome();
  let upstream: Upstream;
  let daemon: DaemonProcess | undefined;
  let client: Client;

  before(async () => {
    upstream = await startUpstream();
    assert.equal(cli(home, ['init']).code, 0);
    looseConnector(home, upstream.port, 'bank.transfer', 'amount', 'payment');
    looseConnector(home, upstream.port, 'ops.deploy', 'env');
    looseConnector(home, upstream.port, 'net.probe', 'host', 'read');
    looseConnector(home, upstream.port, 'ledger.count', 'n');
    daemon = await startDaemon(home);
    const file = join(home, 'args-policy.cedar');
    writeFileSync(file, POLICY);
    const applied = cli(home, ['policy', 'apply', file]);
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    client = await stdioClient(home);
  });
  after(async () => {
    await client?.close();
    await daemon?.stop();
    upstream?.server.close();
    cleanup();
  });

  /**
   * Every call is denied, with a denied receipt (whose policy part and detail must match `why`),
   * and nothing reaches the upstream.
   */
  const assertAllDenied = async (tool: string, arg: string, values: unknown[], why?: (v: unknown) => RegExp) => {
    const before = upstream.bodies.length;
    // All at once, as an agent probing for the type that gets through would.
    const results = await Promise.all(values.map((v) => callTool(client, tool, { [arg]: v, memo: JSON.stringify(v) })));
    const records = receiptRecords(home);
    results.forEach((r, i) => {
      const what = `${tool} ${arg}=${JSON.stringify(values[i])}`;
      assert.equal(r.code, 'denied', `${what} was not denied: ${JSON.stringify(r)}`);
      const receipt = receiptFor(records, r.receipt);
      assert.equal(receipt?.kind, 'tool_call', what);
      assert.equal(receipt.body.outcome, 'denied', what);
      const said = JSON.stringify({ policy: receipt.body.policy, detail: receipt.body.detail });
      if (why) assert.match(said, why(values[i]), what);
    });
    assert.deepEqual(upstream.bodies.slice(before), [], 'a denied call reached the upstream');
  };

  it('forbid amount > 100 denies 5000 whatever its type, and escape-shaped objects at any depth', async () => {
    await assertAllDenied(
      'bank.transfer',
      'amount',
      [
        5000,
        '5000',
        [5000],
        true,
        null,
        5000.5,
        1e30,
        DECIMAL,
        { __extn: { fn: 'decimal', arg: '5000.0' } },
        ADMIN,
        [ADMIN],
        { nested: ADMIN },
        [{ nested: [DECIMAL] }],
        { __expr: '5000' },
        { type: 'Briefcase::Admin', id: 'admin' },
      ],
      // The Long 5000 makes the forbid apply; every other type makes it error, and it denies.
      (v) => (v === 5000 ? /"policies":\["big-transfers"\]/ : /policy error: policy \\"big-transfers\\": type error/),
    );
    const ok = await callTool(client, 'bank.transfer', { amount: 50 });
    assert.equal(ok.isError, false, JSON.stringify(ok));
    assert.deepEqual(upstream.bodies.at(-1), { path: '/bank.transfer', amount: 50 });
  });

  it('a permit guarded on an argument is not opened by escape-shaped objects or other types', async () => {
    const dev = await callTool(client, 'ops.deploy', { env: 'dev' });
    assert.equal(dev.isError, false, JSON.stringify(dev));
    await assertAllDenied('ops.deploy', 'env', [
      ['dev'],
      { env: 'dev' },
      { __extn: { fn: 'ip', arg: '10.0.0.1' } },
      ADMIN,
      { __entity: { type: 'Briefcase::Agent', id: 'dev' } },
      'prod',
    ]);
    // Only an extension value could satisfy this permit; the agent must not be able to make one.
    await assertAllDenied(
      'net.probe',
      'host',
      [{ __extn: { fn: 'ip', arg: '10.1.2.3' } }, [{ __extn: { fn: 'ip', arg: '10.1.2.3' } }], '10.1.2.3'],
      () => /policy error: policy \\"internal-hosts\\": type error/,
    );
  });

  it('a policy that errors at run time denies the call with the error in its one receipt (not allowed, not internal)', async () => {
    let deep: unknown = 1;
    // Deeper than the policy can take (32), within what the daemon accepts at all (64).
    for (let i = 0; i < 40; i++) deep = { n: deep };
    for (const [n, reason] of [
      [2 ** 62, /policy "small-counts": .*overflow/],
      ['4', /policy "small-counts": type error/],
      [deep, /argument "n" cannot be given to the policy: it is nested deeper than 32 levels/],
    ] as const) {
      const before = receiptRecords(home).filter((r) => r.kind === 'tool_call').length;
      const r = await callTool(client, 'ledger.count', { n });
      assert.equal(r.code, 'denied', JSON.stringify(r));
      const calls = receiptRecords(home).filter((x) => x.kind === 'tool_call');
      assert.equal(calls.length, before + 1, 'exactly one receipt per call');
      assert.equal(calls.at(-1)!.body.outcome, 'denied');
      assert.match(String(calls.at(-1)!.body.detail), reason);
    }
    assert.equal((await callTool(client, 'ledger.count', { n: 3 })).isError, false);
  });
});
