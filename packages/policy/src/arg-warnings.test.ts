import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePolicy, DEFAULT_POLICY } from './index.ts';

const warnings = (text: string): string[] => {
  const c = compilePolicy(text);
  assert.ok(c.ok, JSON.stringify(c));
  return c.value.warnings;
};

describe('policy check: conditions on untyped arguments', () => {
  it('the default policy reads no argument and gets no warning', () => {
    assert.deepEqual(warnings(DEFAULT_POLICY), []);
  });
  it('says an operator that needs a type makes a forbid deny and a permit not apply', () => {
    const [w] = warnings(
      '@id("cap") forbid(principal, action, resource) when { context.args has amount && context.args.amount > 100 };',
    );
    assert.match(
      w!,
      /policy "cap": context\.args\.amount is untyped .* `>` needs a Long; .* this forbid denies the call/,
    );
    const [p] = warnings(
      '@id("small") permit(principal, action, resource) when { context.args has amount && context.args.amount < 100 };',
    );
    assert.match(p!, /policy "small": .* this permit does not apply/);
  });
  it('flags == in a forbid and != in a permit as bypassable, and the safe directions as not', () => {
    const w = warnings(`
      @id("no-prod") forbid(principal, action, resource) when { context.args has env && context.args.env == "prod" };
      @id("not-dev") forbid(principal, action, resource) unless { context.args has env && context.args.env == "dev" };
      @id("dev") permit(principal, action, resource) when { context.args has env && context.args.env == "dev" };
      @id("not-prod") permit(principal, action, resource) when { context.args has env && context.args.env != "prod" };
      @id("not-not") forbid(principal, action, resource) when { context.args has env && !(context.args.env != "prod") };
    `).join('\n');
    assert.match(w, /policy "no-prod": can be bypassed: `==` .* this forbid then does not apply/);
    assert.match(w, /policy "not-dev": `==` .* this forbid then applies\./);
    assert.match(w, /policy "dev": `==` .* this permit then does not apply\./);
    assert.match(w, /policy "not-prod": can be bypassed: `!=` .* this permit then applies to a value of another type/);
    assert.match(w, /policy "not-not": can be bypassed: `!=`/);
  });
  it('says methods of extension values never hold on an argument, and drops the validator\'s "impossible"', () => {
    const w = warnings(
      '@id("hosts") permit(principal, action, resource) when { context.args has host && context.args.host.isInRange(ip("10.0.0.0/8")) };',
    );
    assert.equal(w.length, 1, w.join('\n'));
    assert.match(w[0]!, /`isInRange` needs an extension value, which an argument never is/);
  });
  it('tells how to fix an unguarded argument read', () => {
    const c = compilePolicy('@id("x") forbid(principal, action, resource) when { context.args.amount > 100 };');
    assert.equal(c.ok, false);
    assert.match(!c.ok ? c.error.join() : '', /test `context\.args has amount` first/);
  });
});
