import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_DEPTH, MAX_VALUES, UNREPRESENTABLE, toCedarContext } from './cedar-context.ts';
import { PolicyEngine, type PolicyRequest } from './index.ts';

const load = (text: string) => {
  const e = PolicyEngine.load(text);
  assert.ok(e.ok, JSON.stringify(e));
  return e.value;
};
const req = (args: Record<string, unknown>, tool = 'bank.transfer'): PolicyRequest => ({
  principal: { type: 'Agent', id: 'agent' },
  tool: { name: tool, origin: 'http', server: 'briefcase', category: 'payment', tags: [] },
  context: { estimated_cost: 0, now: 1_800_000_000, hour_utc: 12, args },
});
const built = (v: unknown) => {
  const c = toCedarContext({ v });
  assert.ok(c.ok);
  return c.value.v;
};

describe('Cedar context builder', () => {
  it('passes strings, booleans and Longs through, and arrays as sets', () => {
    assert.deepEqual(built({ s: 'a\u0000\u202e😀', b: true, n: -5, z: -0, l: [1, 'x'] }), {
      s: 'a\u0000\u202e😀',
      b: true,
      n: -5,
      z: 0,
      l: [1, 'x'],
    });
  });
  it('renames keys Cedar interprets, at any depth, without collisions', () => {
    assert.deepEqual(built({ __entity: { __extn: 1, ___entity: 2 }, __expr: 'x', _a: 3 }), {
      ___entity: { ___extn: 1, ____entity: 2 },
      ___expr: 'x',
      _a: 3,
    });
  });
  it('gives null, fractions, out-of-range numbers and broken strings as the marker record', () => {
    for (const [v, why] of [
      [null, 'null'],
      [1.5, 'number 1.5'],
      [2 ** 63, 'number 9223372036854776000'],
      [-(2 ** 63), 'number -9223372036854776000'],
      ['a\ud800', 'string "a\\ud800" is not well-formed Unicode'],
    ] as const) {
      assert.deepEqual(built(v), { [UNREPRESENTABLE]: why });
    }
  });
  it('refuses what it cannot pass faithfully: too deep, too big, broken keys', () => {
    let deep: unknown = 1;
    for (let i = 0; i <= MAX_DEPTH; i++) deep = [deep];
    assert.match(JSON.stringify(toCedarContext({ v: deep })), /nested deeper than 32/);
    const big = Array.from({ length: MAX_VALUES + 1 }, (_, i) => i);
    assert.match(JSON.stringify(toCedarContext({ v: big })), /more than 10000 values/);
    assert.match(JSON.stringify(toCedarContext({ v: { '\udc00': 1 } })), /key that is not well-formed/);
  });
});

describe('policy on untyped arguments fails closed', () => {
  const cap = load(`
    @id("transfers") permit(principal, action, resource);
    @id("big-transfers") forbid(principal, action, resource) when { context.args has amount && context.args.amount > 100 };
  `);
  it('an erroring forbid denies, naming the policy and the error', () => {
    for (const amount of [
      5000,
      '5000',
      [5000],
      true,
      null,
      5000.5,
      1e30,
      { __extn: { fn: 'decimal', arg: '1.0' } },
      { __entity: { type: 'Briefcase::Admin', id: 'admin' } },
      [{ __entity: { type: 'Briefcase::Admin', id: 'admin' } }],
    ]) {
      const d = cap.decide(req({ amount }));
      assert.equal(d.decision, 'deny', JSON.stringify(amount));
      assert.deepEqual(d.policies, ['big-transfers']);
      if (amount !== 5000) assert.match(d.errors.join(), /policy "big-transfers": type error/);
    }
    assert.equal(cap.decide(req({ amount: 50 })).decision, 'allow');
    assert.equal(cap.decide(req({})).decision, 'allow');
  });
  it('an erroring permit does not apply', () => {
    const e = load(
      `@id("dev") permit(principal, action, resource) when { context.args has n && context.args.n * 2 > 0 };`,
    );
    assert.equal(e.decide(req({ n: 1 })).decision, 'allow');
    const d = e.decide(req({ n: 2 ** 62 }));
    assert.equal(d.decision, 'deny');
    assert.match(d.errors.join(), /policy "dev": .*overflow/);
  });
  it('arguments no policy reads cannot deny a call (floats, nulls, deep values are fine there)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200; i++) deep = { a: deep };
    const d = cap.decide(req({ amount: 5, ratio: 0.5, note: null, blob: deep, broken: 'x\ud800' }));
    assert.equal(d.decision, 'allow');
    assert.equal(load('permit(principal, action, resource);').decide(req({ deep, f: 1.5 })).decision, 'allow');
  });
  it('a value too deep for Cedar in an argument a policy reads denies with the reason, never throws', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200; i++) deep = { a: deep };
    const d = cap.decide(req({ amount: deep }));
    assert.equal(d.decision, 'deny');
    assert.match(d.errors.join(), /argument "amount" cannot be given to the policy: it is nested deeper/);
  });
  it('a broken argument name denies only where a policy reads the whole argument record', () => {
    assert.equal(cap.decide(req({ amount: 5, '\ud800': 1 })).decision, 'allow');
    const whole = load('@id("p") permit(principal, action, resource) when { context.args == {} };');
    assert.equal(whole.decide(req({})).decision, 'allow');
    const d = whole.decide(req({ '\ud800': 1 }));
    assert.equal(d.decision, 'deny');
    assert.match(d.errors.join(), /argument name is not well-formed/);
  });
  it('a tool name Cedar cannot parse denies instead of throwing', () => {
    const d = cap.decide(req({}, 'x\ud800'));
    assert.equal(d.decision, 'deny');
  });
});

describe('docs/policy.md "Writing safe argument conditions": the examples do what the page says', () => {
  const decide = (policies: string, args: Record<string, unknown>) => load(policies).decide(req(args)).decision;
  const ALL = '@id("all") permit(principal, action, resource);\n';
  it('safe: like, == in a permit, ip(…) on a String', () => {
    const like = `${ALL}@id("f") forbid(principal, action, resource) when { context.args has env && context.args.env like "prod" };`;
    for (const env of ['prod', ['prod'], { env: 'prod' }, null]) assert.equal(decide(like, { env }), 'deny');
    assert.equal(decide(like, { env: 'dev' }), 'allow');
    const dev =
      '@id("p") permit(principal, action, resource) when { context.args has env && context.args.env == "dev" };';
    for (const env of [['dev'], { __extn: { fn: 'ip', arg: '1.1.1.1' } }]) assert.equal(decide(dev, { env }), 'deny');
    const lo = `${ALL}@id("f") forbid(principal, action, resource) when { context.args has host && ip(context.args.host).isLoopback() };`;
    for (const host of ['127.0.0.1', 'localhost', ['127.0.0.1'], { __extn: { fn: 'ip', arg: '127.0.0.1' } }]) {
      assert.equal(decide(lo, { host }), 'deny');
    }
    assert.equal(decide(lo, { host: '8.8.8.8' }), 'allow');
  });
  it('not safe (a documented limit): == in a forbid, != in a permit, membership in a forbid', () => {
    const eq = `${ALL}@id("f") forbid(principal, action, resource) when { context.args has env && context.args.env == "prod" };`;
    assert.equal(decide(eq, { env: ['prod'] }), 'allow');
    const ne =
      '@id("p") permit(principal, action, resource) when { context.args has env && context.args.env != "prod" };';
    assert.equal(decide(ne, { env: ['prod'] }), 'allow');
    const to = `${ALL}@id("f") forbid(principal, action, resource) when { context.args has to && context.args.to.contains("ceo@x") };`;
    assert.equal(decide(to, { to: [['ceo@x']] }), 'allow');
  });
});
