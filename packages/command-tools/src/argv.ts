import { BriefcaseError } from '@briefcase/protocol';
import { MAX_ARG_BYTES, PLACEHOLDER, type CommandToolManifest } from './manifest.ts';

/** The end-of-options marker: after it, a value starting with `-` is an operand, not an option. */
const END_OF_OPTIONS = '--';

/**
 * The argv of one call: each `{name}` element replaced by that argument's value as one element.
 * No shell ever sees it, so `$(…)`, `;`, quotes and globs stay literal. What the program itself
 * would misread is refused (`invalid_args`): a NUL byte (it would cut the element short), a value
 * too long for the kernel, and, before a literal `--` element, a value starting with `-`, which
 * the program would take for an option (`--output=/x`, `--rawfile`).
 */
export function buildArgv(m: CommandToolManifest, args: Record<string, unknown>): string[] {
  let afterEnd = false;
  return m.argv.map((element, i) => {
    if (i > 0 && element === END_OF_OPTIONS) afterEnd = true;
    const whole = PLACEHOLDER.exec(element);
    if (!whole) return element;
    const name = whole[1]!;
    const value = argText(args[name], name);
    if (value.includes('\0')) throw new BriefcaseError('invalid_args', `argument ${name} may not contain a NUL byte`);
    if (Buffer.byteLength(value) > MAX_ARG_BYTES)
      throw new BriefcaseError('invalid_args', `argument ${name} is longer than ${MAX_ARG_BYTES} bytes`);
    if (!afterEnd && value.startsWith('-')) {
      throw new BriefcaseError(
        'invalid_args',
        `argument ${name} may not start with "-": the program would read it as an option`,
      );
    }
    return value;
  });
}

/** What the program reads on stdin for this call, or null for nothing. */
export function stdinFor(m: CommandToolManifest, args: Record<string, unknown>): string | null {
  if (m.stdin === 'none') return null;
  if (m.stdin === 'args') return JSON.stringify(args);
  const value = args[m.stdin.arg];
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function argText(value: unknown, name: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new BriefcaseError('invalid_args', `argument ${name} must be a string, number or boolean`);
}
