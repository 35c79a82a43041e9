/**
 * Turns a call's context (and the agent's arguments inside it) into Cedar's JSON value format so
 * that no value the agent chooses can ever be read as something other than plain data.
 *
 * Cedar's JSON format gives meaning to some object shapes: `{"__entity": {type, id}}` is an entity
 * reference and `{"__extn": {fn, arg}}` an extension value (ip, decimal, datetime…), at any depth;
 * `{"__expr": …}` is refused. It has no null and no non-integer numbers, and it refuses numbers
 * outside i64, lone UTF-16 surrogates and nesting past its parser's recursion limit (the last two
 * throw from the WASM module rather than answering). Passing agent JSON straight through let
 * an agent make an argument an entity (`is Briefcase::Admin`), an extension value, or a request
 * error.
 *
 * The mapping (pure, no Node APIs):
 *   string (well-formed Unicode)    → String
 *   true / false                    → Bool
 *   integer of magnitude < 2^63     → Long (−0 → 0)
 *   array                           → Set of the mapped elements (order and duplicates are not
 *                                     visible to policies: Cedar has no lists)
 *   object                          → Record; a key starting with "__" gets one more "_"
 *                                     ("__entity" → "___entity"), so no record the agent sends
 *                                     has a key Cedar interprets, and no two keys collide
 *   null, a fraction or an out-of-range number, a string that is not well-formed Unicode
 *                                   → the marker record {"__unrepresentable": "<why>"}
 *   a value nested deeper than MAX_DEPTH, holding more than MAX_VALUES values, or with a key
 *   that is not well-formed Unicode → no context at all: the engine denies the call, saying why
 *
 * Why the marker is safe: it is a record, so every operator that expects a Long, String, Bool,
 * Set, entity or extension value errors on it (an erroring forbid denies; an erroring permit does
 * not apply), `.x` on it errors, and `==` with anything the agent can send is false. `has x` is
 * false on it, where on a scalar it errors: both say the value has no attribute x. Its key starts with "__" and a letter, a shape no
 * renamed agent key can take. Containers are never replaced by a marker: `has` on a marker would
 * be false where the real value has the attribute, and a forbid guarded by `has` would not apply.
 * A type confusion therefore makes a condition error or compare unequal (see docs/policy.md),
 * never changes what a value means.
 */

export type CedarJson = string | number | boolean | CedarJson[] | { [key: string]: CedarJson };

/** Cedar's JSON parser stops at 128 nested levels; the request wrapper uses a few. */
export const MAX_DEPTH = 32;
/** Cedar's work grows with the size of the context: a bigger argument is refused. */
export const MAX_VALUES = 10_000;
export const UNREPRESENTABLE = '__unrepresentable';

/**
 * Exclusive, both ways: −2^63 is a valid i64, but JavaScript writes it as -9223372036854776000,
 * which Cedar's parser refuses; every double of smaller magnitude is written within range.
 */
const LONG_LIMIT = 2 ** 63;

/** The Cedar record key for an agent's object key (Cedar reserves the "__" prefix). */
export function cedarKey(key: string): string {
  return key.startsWith('__') ? `_${key}` : key;
}

export function unrepresentable(why: string): { [UNREPRESENTABLE]: string } {
  return { [UNREPRESENTABLE]: why };
}

export type ContextResult = { ok: true; value: Record<string, CedarJson> } | { ok: false; error: string };

class Refused extends Error {}

/** One agent (or daemon) value as a Cedar value; throws Refused for what must not be passed. */
function toCedarValue(value: unknown): CedarJson {
  if (countValues(value, MAX_VALUES + 1, 0) > MAX_VALUES) throw new Refused(`holds more than ${MAX_VALUES} values`);
  return convert(value, 0);
}

/**
 * A context record as Cedar JSON: each attribute mapped as above. `keep` says which attributes
 * to build (the ones policies can observe, see context-refs.ts); the others cannot change a
 * decision, so an oversized argument no policy reads costs nothing and denies nothing.
 */
export function toCedarContext(
  context: Record<string, unknown>,
  keep: (cedarName: string) => boolean = () => true,
  label = 'context attribute',
): ContextResult {
  const out: [string, CedarJson][] = [];
  for (const [key, value] of Object.entries(context)) {
    if (value === undefined) continue;
    const name = cedarKey(key);
    // Policy text is well-formed Unicode, so no policy names such a key: only a policy that reads
    // the whole record (`context.args == {…}`) keeps it, and leaving it out would change that.
    if (!keep(name)) continue;
    if (!key.isWellFormed()) return { ok: false, error: `a ${label} name is not well-formed Unicode` };
    try {
      out.push([name, toCedarValue(value)]);
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      const shown = key.length > 64 ? `${key.slice(0, 64)}…` : key;
      return { ok: false, error: `${label} "${shown}" cannot be given to the policy: it ${e.message}` };
    }
  }
  return { ok: true, value: Object.fromEntries(out) };
}

function convert(value: unknown, depth: number): CedarJson {
  switch (typeof value) {
    case 'string':
      return value.isWellFormed()
        ? value
        : unrepresentable(`string ${JSON.stringify(value)} is not well-formed Unicode`);
    case 'boolean':
      return value;
    case 'number':
      if (Number.isInteger(value) && Math.abs(value) < LONG_LIMIT) return value === 0 ? 0 : value;
      return unrepresentable(`number ${String(value)}`);
    case 'object': {
      if (value === null) return unrepresentable('null');
      if (depth >= MAX_DEPTH) throw new Refused(`is nested deeper than ${MAX_DEPTH} levels`);
      if (Array.isArray(value)) return value.map((v: unknown) => convert(v, depth + 1));
      const entries: [string, CedarJson][] = [];
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined) continue;
        if (!k.isWellFormed()) throw new Refused(`has a key that is not well-formed Unicode`);
        entries.push([cedarKey(k), convert(v, depth + 1)]);
      }
      return Object.fromEntries(entries);
    }
    default:
      // undefined inside an array, bigint, functions: not JSON, so not from the agent.
      return unrepresentable(typeof value);
  }
}

/** Values in `value`, counting up to `stop` (so a huge argument costs no more than the limit). */
function countValues(value: unknown, stop: number, depth: number): number {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return 1;
  let n = 1;
  for (const v of Array.isArray(value) ? value : Object.values(value)) {
    n += countValues(v, stop - n, depth + 1);
    if (n >= stop) return n;
  }
  return n;
}
