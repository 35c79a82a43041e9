/**
 * The path of the first number in `value` that JSON cannot carry (JSON.parse reads `1e400` as
 * Infinity), or null. The gateway forwards arguments as JSON, where Infinity would silently become
 * `null`: the daemon would then check, approve and run a call the agent did not make. Iterative,
 * so hostile nesting (already bounded by the framing check) cannot exhaust the stack.
 */
export function nonFiniteNumberPath(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) return path || '(arguments)';
    if (Array.isArray(v)) v.forEach((x, i) => stack.push([x, `${path}[${i}]`]));
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) stack.push([x, path ? `${path}.${k}` : k]);
    }
  }
  return null;
}
