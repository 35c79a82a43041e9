import { AccessManifest, ToolCategory, ToolName, err, ok, type Result } from '@briefcase/protocol';
import { z } from 'zod';

/** `{name}`: a whole argv element filled by one argument. */
export const PLACEHOLDER = /^\{([A-Za-z_][A-Za-z0-9_]{0,63})\}$/;
/** A brace pair anywhere in an element: only a whole-element placeholder is allowed. */
const PARTIAL = /\{[^}]*\}/;

/** Longest value one argv element may take (Linux MAX_ARG_STRLEN is 128 KiB). */
export const MAX_ARG_BYTES = 128 * 1024;

/**
 * A command tool's definition (`<data dir>/command-tools/<name>/tool.json`): a local program run
 * once per call inside the OS sandbox with the tool's access manifest. Arguments fill whole argv
 * elements (`"{filter}"`), never part of one and never a shell string: there is no shell.
 */
export const CommandToolManifest = z
  .object({
    kind: z.literal('command'),
    /** Also the tool's directory name, so never `.`, `..` or hidden. */
    name: ToolName.refine((n) => !n.startsWith('.'), 'a command tool name does not start with "."'),
    title: z.string().max(200).optional(),
    description: z.string().min(1).max(4000),
    category: ToolCategory,
    tags: z.array(z.string().max(64)).max(32).default([]),
    input_schema: z.record(z.string(), z.unknown()),
    /** The program and its arguments: literal strings, or `{arg}` filling a whole element. */
    argv: z.array(z.string().min(1).max(4096)).min(1).max(256),
    /** What the program reads on stdin: nothing, the arguments as JSON, or one argument. */
    stdin: z
      .union([z.enum(['none', 'args']), z.object({ arg: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/) }).strict()])
      .default('none'),
    /** `json`: stdout is also parsed as the result's structured content when it is a JSON object. */
    output: z.enum(['text', 'json']).default('text'),
    timeout_ms: z.number().int().min(100).max(600_000).default(10_000),
    max_output_bytes: z
      .number()
      .int()
      .min(1)
      .max(16 * 1024 * 1024)
      .default(1024 * 1024),
    reads: z.string().max(500).optional(),
    changes: z.string().max(500).optional(),
    access: AccessManifest.default(AccessManifest.parse({})),
  })
  .strict();
export type CommandToolManifest = z.infer<typeof CommandToolManifest>;

const SCALAR = new Set(['string', 'number', 'integer', 'boolean']);

/**
 * Parse and check a definition; every problem names its field. What a schema cannot say: the
 * program is a literal, each placeholder is a required scalar argument, and nothing but a whole
 * element is a placeholder (so an argument can never become part of a longer string).
 */
export function checkCommandTool(raw: unknown, where: string): Result<CommandToolManifest, string[]> {
  const parsed = CommandToolManifest.safeParse(raw);
  if (!parsed.success) {
    return err(parsed.error.issues.map((i) => `${where}: ${i.path.join('.') || '(definition)'}: ${i.message}`));
  }
  const m = parsed.data;
  const problems: string[] = [];
  const schema = m.input_schema as { type?: unknown; properties?: unknown; required?: unknown };
  if (schema.type !== 'object') problems.push('input_schema.type: must be "object"');
  const props = (schema.properties ?? {}) as Record<string, { type?: unknown } | undefined>;
  const required = Array.isArray(schema.required) ? (schema.required as unknown[]) : [];
  const program = m.argv[0]!;
  if (PLACEHOLDER.test(program) || PARTIAL.test(program))
    problems.push('argv.0: the program is fixed, never an argument');
  if (program.startsWith('-')) problems.push('argv.0: the program is a name or an absolute path');
  m.argv.forEach((element, i) => {
    const whole = PLACEHOLDER.exec(element);
    if (!whole) {
      if (PARTIAL.test(element)) {
        problems.push(`argv.${i}: "${element}": an argument fills a whole element ("{name}"), never part of one`);
      }
      return;
    }
    const name = whole[1]!;
    const prop = props[name];
    if (!prop) problems.push(`argv.${i}: {${name}} is not an argument in input_schema.properties`);
    else if (typeof prop.type !== 'string' || !SCALAR.has(prop.type))
      problems.push(`argv.${i}: {${name}} must be a string, number, integer or boolean argument`);
    if (!required.includes(name)) problems.push(`argv.${i}: {${name}} must be listed in input_schema.required`);
  });
  if (typeof m.stdin === 'object' && !props[m.stdin.arg]) {
    problems.push(`stdin.arg: "${m.stdin.arg}" is not an argument in input_schema.properties`);
  }
  return problems.length > 0 ? err(problems.map((p) => `${where}: ${p}`)) : ok(m);
}
