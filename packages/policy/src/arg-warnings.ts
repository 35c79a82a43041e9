import type * as cedar from '@cedar-policy/cedar-wasm/nodejs';

/**
 * `policy check` warnings for conditions on the agent's arguments. Arguments are untyped (the
 * schema declares `args: {}`; a tool's JSON Schema may accept any type), so the agent picks the
 * type of every value a condition reads. What then happens depends on the operator:
 *
 * - Most operators need one type (`>` a Long, `like` a String, `&&` a Bool, `.isIpv4()` an
 *   extension value an argument never is) and error on another: an erroring forbid denies, an
 *   erroring permit does not apply. Safe, and said so.
 * - `==`, `!=` and set membership never error: a value of another type is just unequal. Whether
 *   that opens anything depends on the effect and on which side of a `!` or `unless` the
 *   comparison sits, which this walk tracks (polarity +1: true makes the policy apply).
 */

type Node = Record<string, unknown>;
type Polarity = 1 | -1 | 0;
type Effect = 'permit' | 'forbid';

const isObject = (n: unknown): n is Node => n !== null && typeof n === 'object' && !Array.isArray(n);

/** `context.args.a.b…` → "a.b"; anything else → undefined. */
function argPath(n: unknown): string | undefined {
  const dot = isObject(n) ? n['.'] : undefined;
  if (!isObject(dot) || typeof dot.attr !== 'string') return undefined;
  const left = dot.left;
  const leftDot = isObject(left) ? left['.'] : undefined;
  if (isObject(leftDot) && isObject(leftDot.left) && leftDot.left.Var === 'context' && leftDot.attr === 'args') {
    return dot.attr;
  }
  const inner = argPath(left);
  return inner === undefined ? undefined : `${inner}.${dot.attr}`;
}

const LONG_OPS = new Set(['<', '<=', '>', '>=', '+', '-', '*', 'neg']);
const BOOL_OPS = new Set(['&&', '||', '!', 'if-then-else']);
const ENTITY_OPS = new Set(['is', 'in', 'getTag', 'hasTag']);
const SET_OPS = new Set(['contains', 'containsAll', 'containsAny']);
const TYPE_BLIND = new Set(['==', '!=', ...SET_OPS]);
const EXTENSION_CONSTRUCTORS = new Set(['ip', 'decimal', 'datetime', 'duration']);

function needs(op: string): string {
  if (LONG_OPS.has(op)) return 'a Long';
  if (op === 'like') return 'a String';
  if (BOOL_OPS.has(op) || op === 'a condition') return 'a Bool';
  if (ENTITY_OPS.has(op)) return 'an entity, which an argument never is (so it always errors)';
  if (op === '.' || op === 'has') return 'a record';
  if (op === 'isEmpty') return 'a set';
  if (EXTENSION_CONSTRUCTORS.has(op)) return `a String in ${op} syntax`;
  return 'an extension value, which an argument never is (so it always errors: parse a String with ip(…) or decimal(…))';
}

/** The sub-expressions of a node, whatever its operator. */
function operands(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (!isObject(body)) return [];
  return ['left', 'right', 'arg', 'if', 'then', 'else', 'in'].map((k) => body[k]).filter((x) => x !== undefined);
}

export function argWarnings(id: string, policy: cedar.PolicyJson): string[] {
  const effect: Effect = policy.effect;
  const out = new Set<string>();
  const erroring = (path: string, op: string) => {
    const then = effect === 'forbid' ? 'this forbid denies the call' : 'this permit does not apply';
    out.add(
      `policy "${id}": context.args.${path} is untyped (the agent chooses its type) and ${op === 'a condition' ? op : `\`${op}\``} needs ${needs(op)}; ` +
        `sent as another type, the condition errors and ${then}.`,
    );
  };
  const blind = (path: string, op: string, pol: Polarity, receiver = false) => {
    // With a value of another type, == and membership are false, != is true, and nothing errors.
    const result = op === '!=';
    const applies = pol === 0 ? undefined : pol === 1 ? result : !result;
    const unsafe = applies === undefined || (effect === 'forbid' ? !applies : applies);
    const what = receiver
      ? `\`${op}\` on context.args.${path} errors unless it is a set, but is false without an error for a set of values of another type ([["x"]] or [5] for ["x"])`
      : `\`${op}\` on context.args.${path} is ${String(result)} without an error when the agent sends another type (["x"] or {"v":"x"} for "x", "5" for 5)`;
    const may = applies === undefined ? 'may ' : '';
    const outcome =
      effect === 'forbid'
        ? applies === true
          ? 'this forbid then applies'
          : `this forbid then ${may ? 'may not apply' : 'does not apply'} and the call goes through if a permit allows it`
        : applies === false
          ? 'this permit then does not apply'
          : `this permit then ${may ? 'may apply' : 'applies'} to a value of another type`;
    const fix = unsafe
      ? ' Make the type part of the test: `like` errors on anything but a String (`context.args.x like "prod"`, or `context.args.x like "*"` as a guard), `<` and `>=` on anything but a Long (see docs/policy.md, "Writing safe argument conditions").'
      : '';
    out.add(`policy "${id}": ${unsafe ? 'can be bypassed: ' : ''}${what}, so ${outcome}.${fix}`);
  };

  /** Report every argument read inside a literal (a set or record compared as a whole). */
  const readsIn = (n: unknown, op: string, pol: Polarity): void => {
    const path = argPath(n);
    if (path !== undefined) {
      blind(path, op, pol);
      return;
    }
    if (isObject(n) && (Array.isArray(n.Set) || isObject(n.Record))) {
      for (const x of Array.isArray(n.Set) ? n.Set : Object.values(n.Record as Node)) readsIn(x, op, pol);
      return;
    }
    walk(n, 0);
  };

  const walk = (n: unknown, pol: Polarity): void => {
    const bare = argPath(n);
    if (bare !== undefined) {
      // Read where a Bool is expected (a condition, an operand of && || !).
      erroring(bare, 'a condition');
      return;
    }
    if (!isObject(n)) return;
    for (const [op, body] of Object.entries(n)) {
      if (op === 'Value' || op === 'Var' || op === 'Slot') continue;
      if (op === '.' || op === 'has') {
        const inner = isObject(body) ? body.left : undefined;
        // `context.args has x` only asks whether x was sent: no type involved.
        const path = argPath(inner);
        if (path !== undefined) erroring(path, op);
        else walk(inner, 0);
        continue;
      }
      if (op === 'Set' || op === 'Record') {
        for (const x of Array.isArray(body) ? body : isObject(body) ? Object.values(body) : []) walk(x, 0);
        continue;
      }
      const subPol = (x: unknown): Polarity => {
        if (op === '!') return (-pol || 0) as Polarity;
        if (op === '&&' || op === '||') return pol;
        if (op === 'if-then-else' && isObject(body) && x !== body.if) return pol;
        return 0;
      };
      for (const x of operands(body)) {
        const path = argPath(x);
        if (path === undefined) {
          if (TYPE_BLIND.has(op)) readsIn(x, op, pol);
          else walk(x, subPol(x));
        } else if (TYPE_BLIND.has(op)) blind(path, op, pol, SET_OPS.has(op) && isObject(body) && x === body.left);
        else erroring(path, op);
      }
    }
  };

  for (const c of policy.conditions) walk(c.body, c.kind === 'when' ? 1 : -1);
  return [...out];
}

/** Whether a policy reads `context.args` at all (then the validator's "impossible" is noise). */
export function readsArgs(policy: cedar.PolicyJson): boolean {
  return JSON.stringify(policy.conditions).includes('{".":{"left":{"Var":"context"},"attr":"args"}}');
}
