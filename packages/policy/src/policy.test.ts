import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy, DEFAULT_POLICY, PolicyEngine, type PolicyRequest } from './index.ts';

const engine = (() => {
  const e = PolicyEngine.load(DEFAULT_POLICY);
  assert.ok(e.ok, JSON.stringify(e));
  return e.value;
})();

const req = (category: string, principal: 'Agent' | 'Admin' = 'Agent', cost = 0, args = {}): PolicyRequest => ({
  principal: { type: principal, id: principal.toLowerCase() },
  tool: { name: `t.${category}`, origin: 'builtin', server: 'briefcase', category, tags: [] },
  context: { estimated_cost: cost, now: 1_800_000_000, hour_utc: 12, args },
});

describe('default policy', () => {
  it('allows read tools without approval', () => {
    assert.deepEqual(engine.decide(req('read')), { decision: 'allow', tier: null, policies: ['read-tools'] });
  });
  it('requires local approval for write tools (AC-2.1)', () => {
    const d = engine.decide(req('write'));
    assert.equal(d.decision, 'allow');
    assert.equal(d.decision === 'allow' && d.tier, 'local');
  });
  it('lets small payments through and asks above the threshold', () => {
    const small = engine.decide(req('payment', 'Agent', 100));
    const large = engine.decide(req('payment', 'Agent', 101));
    assert.equal(small.decision === 'allow' && small.tier, null);
    assert.equal(large.decision === 'allow' && large.tier, 'local');
  });
  it('denies admin tools to the agent, but not to the admin', () => {
    assert.equal(engine.decide(req('admin')).decision, 'deny');
    assert.equal(engine.decide(req('admin', 'Admin')).decision, 'allow');
  });
  it('denies what no permit matches', () => {
    assert.equal(engine.decide(req('unknown-category')).decision, 'deny');
  });
});

describe('policy validation', () => {
  it('reports parse and schema errors with the policy id', () => {
    const bad = compilePolicy('@id("x") permit(principal, action, resource) when { resource.colour == "red" };');
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.error.join() : '', /policy "x".*colour/);
    assert.equal(compilePolicy('permit(principal, action').ok, false);
  });
  it('refuses unknown approval tiers and @approval on forbid', () => {
    assert.match(
      JSON.stringify(compilePolicy('@approval("maybe") permit(principal, action, resource);')),
      /must be one of/,
    );
    assert.match(
      JSON.stringify(compilePolicy('@approval("local") forbid(principal, action, resource);')),
      /only makes sense on a permit/,
    );
  });
  it('the strongest tier among determining permits wins; forbid beats permit', () => {
    const e = PolicyEngine.load(`
      @id("a") @approval("local") permit(principal, action, resource);
      @id("b") @approval("signer") permit(principal, action, resource) when { context.estimated_cost > 10 };
      @id("c") forbid(principal, action, resource) when { context.args has repo && context.args.repo == "prod" };
    `);
    assert.ok(e.ok);
    const tier = (cost: number) => {
      const d = e.value.decide(req('read', 'Agent', cost));
      return d.decision === 'allow' ? d.tier : 'deny';
    };
    assert.equal(tier(1), 'local');
    assert.equal(tier(11), 'signer');
    assert.equal(e.value.decide(req('read', 'Agent', 1, { repo: 'prod' })).decision, 'deny');
  });
});

describe('decision cache', () => {
  it('keys on every context attribute a policy mentions, so cached answers stay right', () => {
    const e = PolicyEngine.load(`
      @id("ok") permit(principal, action, resource) when { context.hour_utc < 18 };
      @id("args") forbid(principal, action, resource) when { context.args has to && context.args.to == "evil" };
    `);
    assert.ok(e.ok);
    const at = (hour: number, args: Record<string, unknown>) =>
      e.value.decide({ ...req('read'), context: { estimated_cost: 0, now: 1, hour_utc: hour, args } }).decision;
    for (let round = 0; round < 2; round++) {
      assert.equal(at(9, { to: 'friend' }), 'allow');
      assert.equal(at(20, { to: 'friend' }), 'deny');
      assert.equal(at(9, { to: 'evil' }), 'deny');
    }
  });
  it('finds context references, and treats a whole-context use as all of them', async () => {
    const { contextRefs } = await import('./index.ts');
    const refs = contextRefs([
      'permit(principal, action, resource) when { context.estimated_cost > 1 && context has now };',
    ]);
    assert.deepEqual([refs.all, [...refs.attrs].sort()], [false, ['estimated_cost', 'now']]);
    assert.equal(contextRefs(['permit(principal, action, resource) when { context == {} };']).all, true);
  });
});
