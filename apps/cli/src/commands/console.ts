import { spawn } from 'node:child_process';
import type { AdminClient } from '../client.ts';
import { print, printJson, stdoutIsTerminal, warn } from '../output.ts';

interface LinkAnswer {
  url: string;
  passkeys: number;
  enrol_url?: string;
  expires_at?: string;
}

/**
 * `briefcase console`: the console's URL, and before the first passkey a one-time enrolment link
 * (valid for minutes). Opens the browser when asked to (or in a desktop terminal).
 */
export async function consoleOpen(c: AdminClient, o: { json: boolean; open: boolean | undefined }): Promise<void> {
  const link = await c.post<LinkAnswer>('/v1/admin/console/link');
  if (o.json) return printJson(link);
  const target = link.enrol_url ?? link.url;
  if (link.enrol_url) {
    print(`Enrol your first passkey here (one use, until ${link.expires_at}):`);
    print(`  ${link.enrol_url}`);
    print('After that, approvals at the presence tier and every change that widens what an agent can do need it.');
  } else {
    print(`The console: ${link.url}`);
    print(`Sign in with your passkey (${link.passkeys} enrolled).`);
  }
  const open = o.open ?? (stdoutIsTerminal() && Boolean(process.env.DISPLAY || process.platform === 'darwin'));
  if (open) openBrowser(target);
}

function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(command, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => warn(`could not start ${command}; open the link above yourself`));
  child.unref();
}
