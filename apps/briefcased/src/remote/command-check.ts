import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/**
 * Why a stdio server's command cannot start, or null. Checked before the launch: inside the
 * sandbox a missing command only shows as a closed connection, which tells the admin nothing.
 * `path` is the PATH the server is given (its allow-listed environment), not the daemon's own.
 */
export function missingCommand(command: string, cwd: string | undefined, path: string | undefined): string | null {
  if (command.includes('/')) {
    const file = isAbsolute(command) ? command : resolve(cwd ?? process.cwd(), command);
    return executable(file) ? null : `the command ${file} does not exist or is not executable: check the path`;
  }
  const dirs = (path ?? '').split(delimiter).filter((d) => d.length > 0);
  if (dirs.some((d) => executable(join(d, command)))) return null;
  return `the command "${command}" was not found on the PATH the server is given (${dirs.join(delimiter) || 'empty'}): install it or give its full path`;
}

function executable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
