export { buildArgv, stdinFor } from './argv.ts';
export { checkCommandTool, CommandToolManifest, MAX_ARG_BYTES, PLACEHOLDER } from './manifest.ts';
export { limitHit, type LimitHit } from './limits.ts';
export { LIMIT_POLL_MS, runProcess, type RunOutcome, type RunSpec } from './run.ts';

/** The definition file in a command tool's directory (`<data dir>/command-tools/<name>/`). */
export const DEFINITION_FILE = 'tool.json';
