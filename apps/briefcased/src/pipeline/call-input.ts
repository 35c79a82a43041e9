import type { ErrorCode } from '@briefcase/protocol';

/**
 * How deep a call's arguments may nest: the arguments object is level 1. Real tool arguments
 * are a few levels deep; the limit keeps every later step (schema validation, policy context,
 * receipts, the JSON the request leaves in) far from any recursion limit.
 */
export const MAX_ARGS_DEPTH = 64;

export interface CallInputProblem {
  code: Extract<ErrorCode, 'unknown_tool' | 'invalid_args'>;
  message: string;
}

/**
 * Input the pipeline cannot even hash is refused before anything else, with a message that names
 * the argument: a lone surrogate in a string or a key (not Unicode, so RFC 8785 cannot
 * canonicalise it), a non-finite number (JSON.parse reads 1e400 as Infinity), or nesting deeper
 * than MAX_ARGS_DEPTH. The walk is iterative: hostile nesting cannot overflow the stack here.
 */
export function callInputProblem(toolName: string, args: Record<string, unknown>): CallInputProblem | null {
  if (!toolName.isWellFormed()) {
    return {
      code: 'unknown_tool',
      message: `there is no tool named "${clipName(toolName.toWellFormed())}" (the name is not well-formed Unicode)`,
    };
  }
  const invalid = (path: string, why: string): CallInputProblem => ({
    code: 'invalid_args',
    message: `invalid arguments for ${clipName(toolName)}: ${path ? `argument ${clipName(path)}` : 'arguments'} ${why}`,
  });
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: args, path: '', depth: 1 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (!value.isWellFormed()) return invalid(path, 'contains a lone surrogate (not well-formed Unicode)');
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return invalid(path, 'is not a finite number');
    } else if (value !== null && typeof value === 'object') {
      if (depth > MAX_ARGS_DEPTH) return invalid(path, `nests deeper than ${MAX_ARGS_DEPTH} levels`);
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--)
          stack.push({ value: value[i], path: `${path}[${i}]`, depth: depth + 1 });
      } else {
        for (const [key, child] of Object.entries(value)) {
          const shown = key.toWellFormed();
          const childPath = path ? `${path}.${shown}` : shown;
          if (!key.isWellFormed()) return invalid(childPath, 'has a name that is not well-formed Unicode');
          stack.push({ value: child, path: childPath, depth: depth + 1 });
        }
      }
    }
  }
  return null;
}

/** Cut at a code unit boundary, then mend a surrogate pair the cut may have split. */
function clipName(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max).toWellFormed()}…` : text;
}
