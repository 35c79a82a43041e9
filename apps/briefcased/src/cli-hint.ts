import { cliCommand, homeArgsFor } from '@briefcase/protocol/invocation';

let home: string | undefined;

/** The data directory the daemon's messages name (set once by Daemon.start). */
export function setHintHome(dir: string): void {
  home = dir;
}

/**
 * `briefcase ARGS…` for the daemon's messages to a person, as a command that works on this
 * machine (`briefcase`, `npx briefcase-agent` or `node …/briefcase.js`: packages/protocol
 * invocation.ts), with `--home DIR` when the data directory is not the default one.
 */
export function cli(...args: string[]): string {
  return cliCommand(...(home === undefined ? [] : homeArgsFor(home)), ...args);
}
