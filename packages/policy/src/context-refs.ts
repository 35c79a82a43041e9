import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

/**
 * Which `context` attributes, and which arguments inside `context.args`, a policy set can observe,
 * found by walking each policy's JSON form. `all` is set when `context` is used as a whole
 * (compared, put in a set), `allArgs` when `context.args` is, so nothing can be left out.
 * The engine gives Cedar exactly these attributes and keys its decision cache on them: an
 * attribute no policy mentions cannot change a decision, and what Cedar never sees cannot
 * make it fail.
 */
export interface ContextRefs {
  all: boolean;
  attrs: Set<string>;
  allArgs: boolean;
  /** Argument names as Cedar sees them (see cedarKey in cedar-context.ts). */
  args: Set<string>;
}

type Node = Record<string, unknown>;
const isObject = (n: unknown): n is Node => n !== null && typeof n === 'object' && !Array.isArray(n);
const isContext = (n: unknown) => isObject(n) && n.Var === 'context';
/** `context.args` in JSON form: {".": {left: {Var: "context"}, attr: "args"}}. */
const isArgs = (n: unknown) => {
  const dot = isObject(n) ? n['.'] : undefined;
  return isObject(dot) && isContext(dot.left) && dot.attr === 'args';
};

export function contextRefs(policies: string[]): ContextRefs {
  const refs: ContextRefs = { all: false, attrs: new Set(), allArgs: false, args: new Set() };
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    if (!isObject(node)) return;
    if (isContext(node)) {
      refs.all = true;
      return;
    }
    if (isArgs(node)) {
      // `context.args` not followed by `.x` or `has x`: the whole record is observed.
      refs.attrs.add('args');
      refs.allArgs = true;
      return;
    }
    for (const [key, value] of Object.entries(node)) {
      if ((key === '.' || key === 'has') && isObject(value)) {
        // `has` takes a name or, for `has a.b`, a path whose first element is the attribute.
        const attr = Array.isArray(value.attr) ? value.attr[0] : value.attr;
        if (typeof attr === 'string' && isContext(value.left)) {
          refs.attrs.add(attr);
          const path = Array.isArray(value.attr) ? value.attr : [];
          if (attr === 'args' && key === 'has' && typeof path[1] === 'string') refs.args.add(path[1]);
          continue;
        }
        if (typeof attr === 'string' && isArgs(value.left)) {
          refs.attrs.add('args');
          refs.args.add(attr);
          continue;
        }
      }
      walk(value);
    }
  };
  for (const text of policies) {
    const json = cedar.policyToJson(text);
    if (json.type !== 'success') {
      refs.all = true;
      continue;
    }
    walk(json.json.conditions);
    walk(json.json.principal);
    walk(json.json.resource);
    walk(json.json.action);
  }
  if (refs.all) refs.allArgs = true;
  return refs;
}
