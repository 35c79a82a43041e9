import { RE2JS } from 're2js';

/**
 * JSON Schema `pattern` and `patternProperties` run on a linear-time engine (RE2, via re2js), so
 * a pattern from a remote MCP server cannot freeze the daemon with catastrophic backtracking
 * (`^(a+)+$` against "aaaa…!" took seconds per character on V8's backtracking engine).
 *
 * Patterns are ECMA-262 (JSON Schema 2020-12 §6.4), compiled by ajv with the `u` flag. Each one
 * is first checked by V8 (syntax only: compiling does not backtrack), then translated for RE2,
 * keeping JavaScript's meaning where the engines differ: `.` does not match line terminators and
 * `\s` is JavaScript's Unicode whitespace. What RE2 cannot do in linear time (lookaround,
 * backreferences) is refused with an error naming the pattern: ajv then fails to compile the
 * schema, so a remote tool is skipped with a warning and a connector manifest is refused.
 */
export function linearRegExp(pattern: string, flags: string): { test(input: string): boolean; toString(): string } {
  try {
    new RegExp(pattern, flags); // syntax only: V8 compiles lazily and never runs it here
  } catch (e) {
    throw new SchemaPatternError(pattern, `not a valid ECMA-262 pattern (${(e as Error).message})`);
  }
  const translated = jsMeaning(pattern);
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(RE2JS.translateRegExp(translated));
  } catch (e) {
    throw new SchemaPatternError(pattern, `not supported by the linear-time engine (${(e as Error).message})`);
  }
  const size = compiled.programSize();
  if (size > MAX_PROGRAM_SIZE) {
    throw new SchemaPatternError(pattern, `too large (${size} instructions, the limit is ${MAX_PROGRAM_SIZE})`);
  }
  return {
    test: (input: string) => {
      budget -= (input.length + 1) * size;
      if (budget < 0) throw new PatternBudgetError(pattern, input.length);
      return compiled.test(input);
    },
    // ajv caches compiled patterns by toString(): it must differ per pattern, as RegExp's does.
    toString: () => `re2:/${pattern}/${flags}`,
  };
}

/**
 * Linear is not free: when RE2 falls back from its DFA, a match costs up to ~100 ns per input
 * character per program instruction. Patterns compile to at most MAX_PROGRAM_SIZE instructions,
 * and one validation spends at most PATTERN_BUDGET (characters × instructions) over all its
 * pattern tests: a worst case of about half a second, while ordinary patterns (tens of
 * instructions) can check hundreds of thousands of characters.
 */
export const MAX_PROGRAM_SIZE = 1000;
export const PATTERN_BUDGET = 4_000_000;
let budget = Number.POSITIVE_INFINITY;

/** Run one validation under the pattern budget (validation is synchronous: no interleaving). */
export function withPatternBudget<T>(run: () => T): T {
  const saved = budget;
  budget = PATTERN_BUDGET;
  try {
    return run();
  } finally {
    budget = saved;
  }
}

export class PatternBudgetError extends Error {
  constructor(pattern: string, length: number) {
    super(
      `a string of ${length} characters is too long to check against pattern ${JSON.stringify(pattern.length > 100 ? `${pattern.slice(0, 100)}…` : pattern)}`,
    );
    this.name = 'PatternBudgetError';
  }
}
/** ajv's standalone code generation would require() this; we never generate standalone code. */
linearRegExp.code = 'linearRegExp';

export class SchemaPatternError extends Error {
  constructor(pattern: string, why: string) {
    super(`pattern ${JSON.stringify(pattern.length > 200 ? `${pattern.slice(0, 200)}…` : pattern)} is ${why}`);
    this.name = 'SchemaPatternError';
  }
}

/** JavaScript's \s (ECMA-262 WhiteSpace and LineTerminator), as class members RE2 reads. */
const JS_SPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
const JS_DOT = '[^\\n\\r\\u2028\\u2029]';

/**
 * Rewrite `.`, `\s` and `\S` so that RE2 gives them their JavaScript meaning, and refuse what
 * has no linear-time equivalent. The pattern is already valid ECMA-262 with the u flag, so an
 * escape is always `\` and one character, and a class ends at the first unescaped `]`.
 */
function jsMeaning(pattern: string): string {
  const refuse = (why: string) => new SchemaPatternError(pattern, `not supported: ${why}`);
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      i++;
      if (/[1-9k]/.test(next)) throw refuse('backreferences cannot run in linear time');
      out += next === 's' ? `[${JS_SPACE}]` : next === 'S' ? `[^${JS_SPACE}]` : `\\${next}`;
    } else if (c === '[') {
      const negated = pattern[i + 1] === '^';
      let j = negated ? i + 2 : i + 1;
      let members = '';
      let nonSpace = false;
      for (; j < pattern.length && pattern[j] !== ']'; j++) {
        if (pattern[j] === '\\') {
          const next = pattern[++j] ?? '';
          if (next === 's') members += JS_SPACE;
          else if (next === 'S') nonSpace = true;
          else members += `\\${next}`;
        } else members += pattern[j] === '[' ? '\\[' : pattern[j]; // RE2 would read [: as a POSIX class
      }
      i = j;
      if (!nonSpace) out += `[${negated ? '^' : ''}${members}]`;
      else if (negated) throw refuse('\\S inside a negated character class');
      // [abc\S] is "a, b, c or any non-space": an alternation RE2 can run.
      else out += members ? `(?:[${members}]|[^${JS_SPACE}])` : `[^${JS_SPACE}]`;
    } else if (c === '(' && /^\(\?<?[=!]/.test(pattern.slice(i, i + 4))) {
      throw refuse('lookahead and lookbehind cannot run in linear time');
    } else out += c === '.' ? JS_DOT : c;
  }
  return out;
}
