import {
  AgentSocketConfig,
  Daemon,
  formatIssues,
  dataPaths,
  initDataDir,
  isInitialised,
  softwareKeysWarning,
  type InitReport,
} from '@briefcase/briefcased';
import { isKeyRole, KEY_ROLES } from '@briefcase/keys';
import { BriefcaseError } from '@briefcase/protocol/errors';
import { cliCommand, homeArgsFor, shellQuote } from '@briefcase/protocol/invocation';
import { agentSocketClientConfig, inspectorCommand, mcpClientConfig } from '../mcp-entry.ts';
import { print, warn } from '../output.ts';
import { askHidden } from '../prompt.ts';

export { agentSocketClientConfig, inspectorCommand, mcpClientConfig };

export interface StartFlags {
  port?: string;
  http?: string;
  initDemo?: boolean;
  strict?: string;
  acceptAlteredReceipts?: boolean;
  consolePort?: string;
  agentSocket?: string;
  agentGroup?: string;
  /** Set by `start --detach` on the daemon it spawns: no log lines on stderr (they go to a file). */
  detachedChild?: boolean;
}

export function printInitReport(report: InitReport): void {
  if (report.created.length > 0) {
    print(`Initialised ${report.home}:`);
    for (const c of report.created) print(`  created ${c}`);
  }
}

/** `briefcase start`: the daemon in the foreground until SIGINT/SIGTERM. */
export async function start(home: string, flags: StartFlags): Promise<void> {
  let firstRun: InitReport | undefined;
  if (flags.initDemo && !isInitialised(home)) {
    firstRun = await initDataDir(home, { demo: true, passphrase: process.env.BRIEFCASE_PASSPHRASE });
    printInitReport(firstRun);
  }
  let httpHost: string | undefined;
  let httpPort: number | undefined;
  if (flags.http) {
    const i = flags.http.lastIndexOf(':');
    httpHost = flags.http.slice(0, i).replace(/^\[|\]$/g, '');
    httpPort = Number(flags.http.slice(i + 1));
  } else if (flags.port) {
    httpHost = '127.0.0.1';
    httpPort = Number(flags.port);
  }
  if (httpPort !== undefined && !(Number.isInteger(httpPort) && httpPort > 0 && httpPort < 65536)) {
    throw new Error(`--port/--http: "${flags.port ?? flags.http}" is not a valid port`);
  }
  const consolePort = flags.consolePort === undefined ? undefined : Number(flags.consolePort);
  if (consolePort !== undefined && !(Number.isInteger(consolePort) && consolePort >= 0 && consolePort < 65536)) {
    throw new Error(`--console-port: "${flags.consolePort}" is not a valid port`);
  }
  const strictRoles = (flags.strict ?? '').split(',').filter(Boolean);
  for (const r of strictRoles) {
    if (!isKeyRole(r)) throw new Error(`--strict: "${r}" is not a key role (${KEY_ROLES.join(', ')})`);
  }
  if ((flags.agentSocket === undefined) !== (flags.agentGroup === undefined)) {
    throw new BriefcaseError('bad_request', '--agent-socket and --agent-group go together');
  }
  let agentSocket: AgentSocketConfig | undefined;
  if (flags.agentSocket !== undefined) {
    const parsed = AgentSocketConfig.safeParse({ path: flags.agentSocket, group: flags.agentGroup });
    if (!parsed.success)
      throw new BriefcaseError('bad_request', formatIssues('--agent-socket', parsed.error).join('\n'));
    agentSocket = parsed.data;
  }
  const daemon = await Daemon.start({
    home,
    foreground: flags.detachedChild !== true,
    strictRoles: strictRoles.filter(isKeyRole),
    passphrase: process.env.BRIEFCASE_PASSPHRASE,
    askPin: (token) => askHidden(`PIN for PKCS#11 token "${token}": `),
    acceptAlteredReceipts: flags.acceptAlteredReceipts ?? false,
    ...(httpHost !== undefined ? { httpHost } : {}),
    ...(httpPort !== undefined ? { httpPort } : {}),
    ...(consolePort !== undefined ? { consolePort } : {}),
    ...(agentSocket ? { agentSocket } : {}),
  });
  const paths = dataPaths(home);
  for (const w of [
    ...(firstRun?.warnings.filter((x) => x.code !== 'software_keys') ?? []),
    softwareKeysWarning(home, daemon.services.keySource),
  ]) {
    if (w) warn(`warning [${w.code}]: ${w.message}`);
  }
  print(`briefcased is running (pid ${process.pid})`);
  print(`  data directory  ${home}`);
  print(
    `  daemon API      unix:${paths.socket}${daemon.httpAddress ? ` and http://${daemon.httpAddress.host}:${daemon.httpAddress.port}` : ''}`,
  );
  print(`  console         ${daemon.consoleUrl ?? 'off (see the log)'}`);
  const agentSocketPath = agentSocket?.path ?? daemon.services.config.daemon.agent_socket?.path;
  if (agentSocketPath) print(`  agent socket    unix:${agentSocketPath} (briefcase mcp --socket ${agentSocketPath})`);
  print(`  logs            ${paths.logs}/daemon.log`);
  print(
    `  tools           ${daemon.services.registry
      .list()
      .map((t) => t.name)
      .join(', ')}`,
  );
  if (daemon.demoAddress)
    print(`  demo API        http://127.0.0.1:${daemon.demoAddress.port} (key kept in the vault as demo_api_key)`);
  print('\nConnect an agent host (Claude Desktop, Cursor, …) with this MCP configuration:');
  print(JSON.stringify(agentSocketPath ? agentSocketClientConfig(agentSocketPath) : mcpClientConfig(home), null, 2));
  const cli = (...a: string[]) => cliCommand(...homeArgsFor(home), ...a);
  const connect = agentSocketPath
    ? `${cliCommand('client', 'connect')} HOST --socket ${shellQuote(agentSocketPath)}`
    : `${cli('client', 'connect')} HOST`;
  print(`(or let \`${connect}\` write it there; HOST: claude-desktop, claude-code, cursor, vscode, windsurf)`);
  print(`\nOr try it in the MCP Inspector:\n  ${inspectorCommand(home)}`);
  print(
    `\nApprove pending calls in the console (\`${cli('console')}\` prints its link; the first time, it enrols your passkey)`,
  );
  print(
    `or with \`${cli('approvals', 'list')}\` / \`${cli('approvals', 'approve')} <id>\` (local tier only). ${flags.detachedChild ? `\`${cli('stop')}\`` : 'Ctrl-C'} stops.`,
  );
  await new Promise<void>((resolveStop) => {
    const stop = () => {
      print('\nstopping…');
      void daemon.stop().then(resolveStop);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
