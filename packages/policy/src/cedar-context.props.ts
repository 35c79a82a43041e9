import fc from 'fast-check';
import { UNREPRESENTABLE, toCedarContext } from './cedar-context.ts';
import { PolicyEngine, type PolicyDecision, type PolicyRequest } from './engine.ts';

/**
 * Properties of the Cedar context builder and the engine on hostile arguments, shared by the
 * bounded test (cedar-context.property.test.ts) and the long run (scripts/fuzz-policy.ts).
 */

const load = (text: string): PolicyEngine => {
  const e = PolicyEngine.load(text);
  if (!e.ok) throw new Error(e.error.join('\n'));
  return e.value;
};

/** Permits that only a value read as an entity or an extension value could satisfy. */
const PROBES = load(`
  @id("is-entity") permit(principal, action, resource) when { context.args has x && context.args.x is Briefcase::Admin };
  @id("eq-entity") permit(principal, action, resource) when { context.args has x && context.args.x == Briefcase::Admin::"admin" };
  @id("in-entity") permit(principal, action, resource) when { context.args has x && context.args.x in Briefcase::Admin::"admin" };
  @id("ipv4") permit(principal, action, resource) when { context.args has x && context.args.x.isIpv4() };
  @id("ipv6") permit(principal, action, resource) when { context.args has x && context.args.x.isIpv6() };
  @id("eq-ip") permit(principal, action, resource) when { context.args has x && context.args.x == ip("127.0.0.1") };
  @id("decimal") permit(principal, action, resource) when { context.args has x && context.args.x.greaterThanOrEqual(decimal("-1000000.0")) };
  @id("eq-decimal") permit(principal, action, resource) when { context.args has x && context.args.x == decimal("1.0") };
  @id("nested-entity") permit(principal, action, resource) when { context.args has x && context.args.x has y && context.args.x.y is Briefcase::Admin };
  @id("set-entity") permit(principal, action, resource) when { context.args has x && context.args.x.contains(Briefcase::Admin::"admin") };
`);

/** A forbid on a Long argument: allows exactly the Longs ≤ 100 (and calls without `amount`). */
const CAP = load(`
  @id("all") permit(principal, action, resource);
  @id("cap") forbid(principal, action, resource) when { context.args has amount && context.args.amount > 100 };
`);

/** A mix of policies that read some arguments and context attributes, for the cache check. */
const MIXED = load(`
  @id("reads") permit(principal, action, resource) when { resource.category == "read" };
  @id("env") permit(principal, action, resource) when { context.args has env && context.args.env == "dev" };
  @id("cap") forbid(principal, action, resource) when { context.args has amount && context.args.amount > 100 };
  @id("night") forbid(principal, action, resource) when { context.hour_utc > 22 };
`);

const escapeShaped: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    __entity: fc.record({
      type: fc.constantFrom('Briefcase::Admin', 'Briefcase::Agent', 'Briefcase::Tool'),
      id: fc.constantFrom('admin', 'agent', 'x'),
    }),
  }),
  fc.record({ __entity: fc.constantFrom('Briefcase::Admin::"admin"') }),
  fc.record({
    __extn: fc.record({
      fn: fc.constantFrom('ip', 'decimal', 'datetime', 'duration'),
      arg: fc.constantFrom('127.0.0.1', '::1', '10.0.0.0/8', '1.0', '2024-01-01', '1h'),
    }),
  }),
  fc.record({ __extn: fc.record({ fn: fc.constantFrom('ip', 'decimal'), args: fc.constant(['127.0.0.1']) }) }),
  fc.record({ __expr: fc.constantFrom('ip("127.0.0.1")', 'Briefcase::Admin::"admin"', '1') }),
  fc.record({ type: fc.constant('Briefcase::Admin'), id: fc.constant('admin') }),
);

const key = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
  fc.constantFrom('__entity', '__extn', '__expr', '___entity', UNREPRESENTABLE, '__proto__', 'x', 'y', 'amount'),
);

const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, 0.5, 100, 101, 2 ** 53, 2 ** 53 + 2, 2 ** 63, -(2 ** 63), 2 ** 63 - 1024, 1e21, 1e300, -1e300),
);

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 6 }), // lone surrogates included
  fc.boolean(),
  number,
  fc.constant(null),
  escapeShaped,
);

const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    fc.record({ __entity: tie('value') }),
    fc.record({ __extn: fc.record({ fn: fc.constantFrom('ip', 'decimal'), arg: tie('value') }) }),
  ),
}));

/** Arguments as an agent could send them (JSON object), with x/amount/env often present. */
export const hostileArgs: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.dictionary(key, value, { maxKeys: 4 }),
    fc.record({ x: value, amount: value, env: fc.oneof(fc.constant('dev'), value) }, { requiredKeys: [] }),
  )
  .map(([a, b]) => ({ ...a, ...b }));

const request = (args: Record<string, unknown>, category = 'read', hour = 12): PolicyRequest => ({
  principal: { type: 'Agent', id: 'agent' },
  tool: { name: 'bank.transfer', origin: 'http', server: 'briefcase', category, tags: ['money'] },
  context: { estimated_cost: 0, now: 1_800_000_000, hour_utc: hour, args },
});

/** Cedar accepted the request: every error names a policy, or the builder refused an argument. */
function accepted(d: PolicyDecision): boolean {
  if (d.decision === 'allow') return true;
  return d.errors.every((e) => e.startsWith('policy "') || e.includes('cannot be given to the policy'));
}

/** No object anywhere in the built context has a key Cedar might interpret ("__…"), save the marker. */
function noEscapes(v: unknown): boolean {
  if (Array.isArray(v)) return v.every(noEscapes);
  if (v === null || typeof v !== 'object') return true;
  const entries = Object.entries(v);
  if (entries.length === 1 && entries[0]![0] === UNREPRESENTABLE) return typeof entries[0]![1] === 'string';
  return entries.every(([k, x]) => (!k.startsWith('__') || k.startsWith('___')) && noEscapes(x));
}

const isLongUpTo100 = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > -(2 ** 63) && v <= 100;

export function cedarContextProperties(): { name: string; property: fc.IProperty<[Record<string, unknown>]> }[] {
  return [
    {
      name: 'the built context never holds a key Cedar interprets, and the builder never throws',
      property: fc.property(hostileArgs, (args) => {
        const built = toCedarContext(args);
        return !built.ok || noEscapes(built.value);
      }),
    },
    {
      name: 'no argument is ever read as an entity or an extension value (permits that need one never allow)',
      property: fc.property(hostileArgs, (args) => {
        const d = PROBES.decide(request(args));
        return d.decision === 'deny' && accepted(d);
      }),
    },
    {
      name: 'a forbid on an argument denies every value that is not a Long it allows',
      property: fc.property(hostileArgs, (args) => {
        const d = CAP.decide(request(args));
        const expected = !('amount' in args) || args.amount === undefined || isLongUpTo100(args.amount);
        return (d.decision === 'allow') === expected && accepted(d);
      }),
    },
    {
      name: 'the decision cache answers exactly what an uncached evaluation of the whole context does',
      property: fc.property(hostileArgs, (args) => {
        for (const [category, hour] of [
          ['read', 12],
          ['write', 12],
          ['read', 23],
        ] as const) {
          const req = request(args, category, hour);
          const uncached = JSON.stringify(MIXED.decideUncached(req));
          if (JSON.stringify(MIXED.decide(req)) !== uncached) return false;
          if (JSON.stringify(MIXED.decide(req)) !== uncached) return false; // from the cache
        }
        return true;
      }),
    },
  ];
}
