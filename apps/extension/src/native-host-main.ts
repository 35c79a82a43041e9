/**
 * The native host process Chromium starts (through the launcher `briefcase extension install`
 * writes). Chromium passes the caller's origin as the first argument and talks over stdin/stdout;
 * nothing may be written to stdout but frames, so errors go to stderr (Chromium logs it).
 */
import { dataPaths, resolveHome } from '@briefcase/briefcased/paths';
import { mintViewerSession } from './daemon-session.ts';
import { runHost } from './native-host.ts';

const paths = dataPaths(resolveHome());
process.stdout.on('error', () => process.exit(0)); // the browser closed the pipe: nobody to answer
const code = await runHost({
  origin: process.argv[2],
  input: process.stdin,
  output: process.stdout,
  mintSession: () => mintViewerSession(paths),
});
process.exitCode = code;
process.stdin.destroy();
