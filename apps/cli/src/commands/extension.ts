import { existsSync } from 'node:fs';
import { cliCommand, homeArgsFor } from '@briefcase/protocol/invocation';
import { resolve } from 'node:path';
import type { DataPaths } from '@briefcase/briefcased/paths';
import { BROWSERS, InstallError, installNativeHost, uninstallNativeHost, type Browser } from '@briefcase/extension';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { print, printJson, warn } from '../output.ts';

export interface ExtensionFlags {
  browser: string;
  userDataDir?: string;
}

const profile = (o: ExtensionFlags) => (o.userDataDir === undefined ? undefined : resolve(o.userDataDir));

function browserOf(flag: string): Browser {
  if (!(BROWSERS as readonly string[]).includes(flag)) {
    throw new BriefcaseError('bad_request', `--browser must be one of ${BROWSERS.join(', ')}`);
  }
  return flag as Browser;
}

/** InstallError codes are the CLI's bad input (exit 2), with their own message. */
function guarded<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof InstallError) throw new BriefcaseError('bad_request', `${e.message} [${e.code}]`);
    throw e;
  }
}

/** `briefcase extension install`: register the native messaging host, say how to load the extension. */
export function extensionInstall(paths: DataPaths, o: ExtensionFlags, json: boolean): void {
  const report = guarded(() =>
    installNativeHost({ browser: browserOf(o.browser), userDataDir: profile(o), home: paths.home }),
  );
  if (!existsSync(paths.adminToken)) {
    warn(
      `warning: ${paths.home} is not initialised yet: run \`${cliCommand(...homeArgsFor(paths.home), 'init')}\` and \`${cliCommand(...homeArgsFor(paths.home), 'start')}\``,
    );
  }
  if (json) return printJson(report);
  print(`Registered the native messaging host ${report.host_name} for ${report.browser}:`);
  print(`  manifest  ${report.manifest}`);
  print(`  launcher  ${report.launcher}`);
  print('');
  print('Now load the extension (once):');
  print(`  1. open chrome://extensions and turn on "Developer mode"`);
  print(`  2. "Load unpacked" and choose ${report.extension_dir}`);
  print(`  3. check that its ID is ${report.extension_id} (the host serves that ID only)`);
  print('Then pin it: its badge counts the approvals that wait for you.');
}

export function extensionUninstall(paths: DataPaths, o: ExtensionFlags, json: boolean): void {
  const result = guarded(() =>
    uninstallNativeHost({ browser: browserOf(o.browser), userDataDir: profile(o), home: paths.home }),
  );
  if (json) return printJson(result);
  if (result.removed.length === 0) print('Nothing to remove: the native host was not registered here.');
  for (const f of result.removed) print(`removed ${f}`);
  print('Remove the extension itself at chrome://extensions.');
}
