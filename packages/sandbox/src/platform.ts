import { accessSync, constants } from 'node:fs';
import { sandboxAvailable } from './available.ts';

/** Which OS sandbox this platform has for processes (stdio servers, command tools), and why not. */
export interface IsolationSupport {
  platform: string;
  mechanism: 'bubblewrap' | 'sandbox-exec' | null;
  ok: boolean;
  detail: string;
}

/**
 * Linux: bubblewrap, when it runs. macOS: `sandbox-exec` with a generated profile (sbpl.ts; not
 * yet run on a Mac, and said so). Anything else (Windows): none — processes that need the
 * sandbox do not start (`unsupported_platform`) unless their isolation is set to "none".
 */
export function isolationSupport(platform: string = process.platform): IsolationSupport {
  if (platform === 'linux') {
    const s = sandboxAvailable();
    return s.ok
      ? { platform, mechanism: 'bubblewrap', ok: true, detail: `bubblewrap (${s.bwrap}) runs` }
      : { platform, mechanism: 'bubblewrap', ok: false, detail: s.reason };
  }
  if (platform === 'darwin') {
    try {
      accessSync('/usr/bin/sandbox-exec', constants.X_OK);
      return {
        platform,
        mechanism: 'sandbox-exec',
        ok: true,
        detail: 'sandbox-exec with a profile generated from each manifest (not yet tested on macOS by the project)',
      };
    } catch {
      return { platform, mechanism: 'sandbox-exec', ok: false, detail: '/usr/bin/sandbox-exec is missing' };
    }
  }
  return {
    platform,
    mechanism: null,
    ok: false,
    detail:
      platform === 'win32'
        ? 'no OS sandbox on Windows yet (it needs an AppContainer or a job object with a restricted token, which Node cannot set up alone)'
        : `no OS sandbox on ${platform}`,
  };
}
