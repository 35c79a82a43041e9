import * as cedar from '@cedar-policy/cedar-wasm/nodejs';

/**
 * Which `context` attributes a policy set can observe, found by walking each policy's JSON form.
 * `all` is set when `context` is used as a whole (compared, passed to a function), so nothing
 * can be left out. A decision cache keys on exactly these attributes: an attribute no policy
 * mentions cannot change a decision.
 */
export interface ContextRefs {
  all: boolean;
  attrs: Set<string>;
}

export function contextRefs(policies: string[]): ContextRefs {
  const refs: ContextRefs = { all: false, attrs: new Set() };
  const isContext = (n: unknown) =>
    n !== null && typeof n === 'object' && (n as Record<string, unknown>).Var === 'context';
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (isContext(obj)) {
      refs.all = true;
      return;
    }
    for (const [key, value] of Object.entries(obj)) {
      const access = value as { left?: unknown; attr?: unknown } | null;
      if ((key === '.' || key === 'has') && access && isContext(access.left) && typeof access.attr === 'string') {
        refs.attrs.add(access.attr);
        continue;
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
  return refs;
}
