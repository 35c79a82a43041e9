import { resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { dataPaths, resolveHome } from '@briefcase/briefcased/paths';
import { VERSION } from '@briefcase/briefcased/version';
import { BriefcaseError } from '@briefcase/protocol/errors';
import type { AdminClient } from './client.ts';
import type { ClientFlags } from './commands/client.ts';
import type { ExtensionFlags } from './commands/extension.ts';
import type { KeysCreateFlags } from './commands/keys.ts';
import type { McpFlags } from './commands/mcp.ts';
import type { RemoteAddFlags } from './commands/remote.ts';
import type { ServiceInstallFlags } from './commands/service.ts';
import type { StartFlags } from './commands/start.ts';
import { commanderOutput, print, printJson, warn } from './output.ts';

/**
 * `briefcase`: the admin CLI. Every command honours BRIEFCASE_HOME (or --home); --json prints one
 * JSON document on stdout. Exit codes: 0 ok, 1 a check or call failed, 2 bad input or config,
 * 3 the daemon is not reachable.
 */
const program = new Command('briefcase')
  .description('Briefcase: let AI agents act for you without handing them your secrets.')
  .version(VERSION)
  .option('--home <dir>', 'data directory (default: $BRIEFCASE_HOME or ~/.briefcase)')
  .showHelpAfterError()
  .configureOutput(commanderOutput)
  .exitOverride();

// Start-up time is part of the product: an approver's `approvals approve` races the approval's
// lifetime. So this file loads only commander and light modules, and every action imports what it
// uses when it runs (`load`): a daemon command never loads the daemon, Cedar, PKCS#11 or the MCP SDK.
const home = () => resolveHome(program.opts<{ home?: string }>().home);
const paths = () => dataPaths(home());
const admin = async (): Promise<AdminClient> => new (await import('./client.ts')).AdminClient(paths());
/** For commands that also work without a daemon (or before init). */
const adminIfInitialised = async (): Promise<AdminClient | null> => {
  try {
    return await admin();
  } catch {
    return null;
  }
};
const load = {
  approvals: () => import('./commands/approvals.ts'),
  approvalsWatch: () => import('./commands/approvals-watch.ts'),
  budget: () => import('./commands/budget.ts'),
  client: () => import('./commands/client.ts'),
  connectors: () => import('./commands/connectors.ts'),
  console: () => import('./commands/console.ts'),
  operations: () => import('./commands/operations.ts'),
  doctor: () => import('./commands/doctor.ts'),
  extension: () => import('./commands/extension.ts'),
  grants: () => import('./commands/grants.ts'),
  keys: () => import('./commands/keys.ts'),
  lifecycle: () => import('./commands/lifecycle.ts'),
  logs: () => import('./commands/logs.ts'),
  mcp: () => import('./commands/mcp.ts'),
  policy: () => import('./commands/policy.ts'),
  receipts: () => import('./commands/receipts.ts'),
  receiptsView: () => import('./commands/receipts-view.ts'),
  remote: () => import('./commands/remote.ts'),
  secrets: () => import('./commands/secrets.ts'),
  service: () => import('./commands/service.ts'),
  start: () => import('./commands/start.ts'),
  tools: () => import('./commands/tools.ts'),
};
let exitCode = 0;

program
  .command('init')
  .description('create the data directory, keys, default config and policy (idempotent)')
  .option('--demo', 'add the demo tools (a local demo API and its connector)')
  .option('--demo-port <port>', 'port for the local demo API (default 38089)')
  .option(
    '--force',
    'rewrite config.json, policy.cedar and demo files to defaults (never keys, tokens, vault or receipts)',
  )
  .option(
    '--master-key <where>',
    'where a new vault master key goes: auto (BRIEFCASE_PASSPHRASE if set, else the OS keychain if one answers, else a file), keychain, passphrase or file',
    'auto',
  )
  .option('--json', 'print JSON')
  .action(async (o: { demo?: boolean; demoPort?: string; force?: boolean; masterKey: string; json?: boolean }) => {
    const demoPort = o.demoPort === undefined ? undefined : Number(o.demoPort);
    if (demoPort !== undefined && !(Number.isInteger(demoPort) && demoPort > 0 && demoPort < 65536)) {
      throw new BriefcaseError('bad_request', `--demo-port: "${o.demoPort}" is not a port number`);
    }
    const { MASTER_KEY_CHOICES } = await import('@briefcase/vault');
    if (!(MASTER_KEY_CHOICES as readonly string[]).includes(o.masterKey)) {
      throw new BriefcaseError('bad_request', `--master-key must be one of ${MASTER_KEY_CHOICES.join(', ')}`);
    }
    const { initDataDir } = await import('@briefcase/briefcased');
    const { mcpClientConfig, printInitReport } = await load.start();
    const report = await initDataDir(home(), {
      demo: o.demo === true,
      force: o.force === true,
      passphrase: process.env.BRIEFCASE_PASSPHRASE,
      masterKey: o.masterKey as (typeof MASTER_KEY_CHOICES)[number],
      ...(demoPort !== undefined ? { demoPort } : {}),
    });
    if (o.json) return printJson({ ...report, mcp_client_config: mcpClientConfig(report.home) });
    printInitReport(report);
    if (report.created.length === 0) print(`${report.home} is already initialised; nothing changed.`);
    for (const w of report.warnings) warn(`warning [${w.code}]: ${w.message}`);
  });

const START_OPTIONS: [string, string][] = [
  ['--port <port>', 'also serve the daemon API over HTTP on 127.0.0.1:<port>'],
  ['--http <host:port>', 'also serve the daemon API over HTTP (loopback addresses only)'],
  ['--init-demo', 'on first run, initialise with the demo tools first (what `npm start` does)'],
  ['--console-port <port>', 'serve the web console on http://localhost:<port> (0: any free port)'],
  ['--strict <roles>', 'refuse to start if these key roles (identity,receipts,dpop) are software keys'],
  [
    '--accept-altered-receipts',
    'DANGEROUS: start on a receipt log that does not extend what was last signed (receipted, new checkpoint chain)',
  ],
  ['--agent-socket <path>', 'also listen on this agent socket: every connection is the agent, no token'],
  ['--agent-group <group>', 'the group that may connect to the agent socket (mode 0660)'],
];
/** The start flags as given, for the daemon a detached start spawns (`restart` passes its own). */
const startArgv = (command: Command): string[] => {
  const args: string[] = [];
  for (const option of command.options) {
    const key = option.attributeName();
    const value = command.getOptionValue(key) as unknown;
    if (value === undefined || option.long === '--detach' || option.long === '--detached-child') continue;
    if (value === true) args.push(option.long!);
    else if (typeof value === 'string') args.push(option.long!, value);
  }
  return args;
};
const start = program
  .command('start')
  .description('run the daemon in the foreground, or with --detach in the background')
  .option('--detach', 'run in the background; return once it is ready (logs in <data dir>/logs)')
  .addOption(new Option('--detached-child').hideHelp());
for (const [flags, description] of START_OPTIONS) start.option(flags, description);
start.action(async (o: StartFlags & { detach?: boolean }, command: Command) => {
  if (o.detach) exitCode = await (await load.lifecycle()).startDetached(paths(), startArgv(command), false);
  else await (await load.start()).start(home(), o);
});

program
  .command('stop')
  .description('stop the background daemon and wait until it has closed its receipt log')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => {
    exitCode = await (await load.lifecycle()).stop(paths(), admin, o.json === true);
  });

const restart = program.command('restart').description('stop the daemon (if it runs), then start it in the background');
for (const [flags, description] of START_OPTIONS) restart.option(flags, description);
restart.action(async (_o: StartFlags, command: Command) => {
  const lifecycle = await load.lifecycle();
  exitCode = await lifecycle.stop(paths(), admin, false);
  if (exitCode === 0) exitCode = await lifecycle.startDetached(paths(), startArgv(command), false);
});

program
  .command('mcp')
  .description('the MCP gateway an agent host spawns (stdio), or Streamable HTTP with --http')
  .option(
    '--http <host:port>',
    'serve Streamable HTTP at http://<host:port>/mcp (loopback only; bearer token in gateway-http.token)',
  )
  .option('--approval-wait <seconds>', 'hold calls at most this long while an approval is pending')
  .option(
    '--socket <path>',
    "reach the daemon through its agent socket (a service user's daemon; env BRIEFCASE_AGENT_SOCKET): no data directory needed",
  )
  .option(
    '--token-file <file>',
    '--http: the bearer token file (with --socket: ~/.config/briefcase/gateway-http.token)',
  )
  .action(async (o: McpFlags) => (await load.mcp()).mcp(home(), o));

const HOSTS_HELP = 'claude-desktop, claude-code, cursor, vscode or windsurf';
const client = program
  .command('client')
  .description(`connect agent hosts to the Briefcase (${HOSTS_HELP}; docs/clients.md)`);
client
  .command('list')
  .description('each host: installed here?, connected to this Briefcase?, and its configuration file')
  .option('--project <dir>', "also a project's files (default: the current directory's, where they exist)")
  .option('--socket <path>', 'compare with the entry for this agent socket instead of --home')
  .option('--json', 'print JSON')
  .action(async (o: ClientFlags) => (await load.client()).clientList(home(), o));
client
  .command('connect <host>')
  .description(
    `add the Briefcase to a host's MCP configuration: ${HOSTS_HELP} (backup first; a second run changes nothing)`,
  )
  .option('--scope <scope>', 'user (default: every project) or project (claude-code, cursor, vscode)')
  .option('--project <dir>', 'with --scope project: the project directory (default: the current one)')
  .option('--socket <path>', "reach a service user's daemon through its agent socket instead of --home")
  .option('--dry-run', 'print the change as a diff and write nothing')
  .option('--force', 'replace an existing, different "briefcase" entry (a backup is kept)')
  .option('--json', 'print JSON')
  .action(async (host: string, o: ClientFlags) => (await load.client()).clientConnect(home(), host, o));
client
  .command('disconnect <host>')
  .description('remove the "briefcase" entry (only that) from a host\'s MCP configuration (backup first)')
  .option('--scope <scope>', 'user (default) or project')
  .option('--project <dir>', 'with --scope project: the project directory (default: the current one)')
  .option('--dry-run', 'print the change as a diff and write nothing')
  .option('--json', 'print JSON')
  .action(async (host: string, o: ClientFlags) => (await load.client()).clientDisconnect(host, o));

const tools = program.command('tools').description('list and call tools (admin-side, same pipeline)');
tools
  .command('list')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => (await load.tools()).toolsList(await admin(), o.json === true));
tools
  .command('call <name>')
  .requiredOption('--args <json>', 'arguments as a JSON object', '{}')
  .option('--json', 'print JSON')
  .action(async (name: string, o: { args: string; json?: boolean }) => {
    exitCode = await (await load.tools()).toolsCall(await admin(), name, o.args, o.json === true);
  });
tools
  .command('add <file>')
  .description(
    'install a command tool (FILE: its JSON definition) or a code tool (FILE: QuickJS .js or WebAssembly .wasm, with --manifest); needs a passkey once one exists',
  )
  .option('--manifest <file>', 'a code tool manifest (JSON: name, runtime, entry, input_schema, access, …)')
  .option('--json', 'print JSON')
  .action(async (file: string, o: { manifest?: string; json?: boolean }) =>
    (await load.tools()).toolsAdd(await admin(), file, o.manifest, o.json === true),
  );
tools
  .command('rm <name>')
  .description("remove a code tool or command tool and its files (and a code tool's key-value store)")
  .option('--json', 'print JSON')
  .action(async (name: string, o: { json?: boolean }) =>
    (await load.tools()).toolsRemove(await admin(), name, o.json === true),
  );

const connectors = program
  .command('connectors')
  .description('declarative HTTP connectors in <data dir>/connectors/ (hot-reloaded; docs/connectors.md)');
connectors
  .command('add <file>')
  .description('add a connector manifest; needs a passkey once one exists (also approves a file already there)')
  .option('--name <name>', 'its file name in connectors/ (default: the file’s own name)')
  .option('--json', 'print JSON')
  .action(async (file: string, o: { name?: string; json?: boolean }) =>
    (await load.connectors()).connectorsAdd(await admin(), file, o.name, o.json === true),
  );
connectors
  .command('validate <file>')
  .description('check a connector manifest offline; prints every problem with where and what to do')
  .option('--json', 'print JSON')
  .action(async (file: string, o: { json?: boolean }) => {
    exitCode = await (await load.connectors()).connectorsValidate(file, o.json === true);
  });
connectors
  .command('list')
  .description('every connector file with its state: ok, or disabled and why (exit 1 if any is disabled)')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => {
    exitCode = await (await load.connectors()).connectorsList(await admin(), o.json === true);
  });
connectors
  .command('rm <name>')
  .description('remove a connector: its file, its approval and its tool')
  .option('--json', 'print JSON')
  .action(async (name: string, o: { json?: boolean }) =>
    (await load.connectors()).connectorsRemove(await admin(), name, o.json === true),
  );

program
  .command('console')
  .description('the web console: its URL, and before the first passkey a one-time enrolment link')
  .option('--json', 'print JSON')
  .option('--open', 'open it in the browser')
  .option('--no-open', 'do not open the browser')
  .action(async (o: { json?: boolean; open?: boolean }) =>
    (await load.console()).consoleOpen(await admin(), { json: o.json === true, open: o.open }),
  );

const budget = program.command('budget').description('budget caps (raising or removing one needs a passkey)');
budget
  .command('list')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => (await load.budget()).budgetList(await admin(), o.json === true));
budget
  .command('set <id>')
  .description('add or change a cap: --limit N --window call|day|month [--tool T | --category C] [--deny]')
  .requiredOption('--limit <n>', 'the most that may be spent per window (minor units)')
  .requiredOption('--window <w>', 'call, day or month')
  .option('--tool <name>', 'the cap applies to this tool')
  .option('--category <name>', 'the cap applies to this category')
  .option('--deny', 'refuse calls over the cap (default: ask for approval)')
  .option('--json', 'print JSON')
  .action(async (id: string, o: import('./commands/budget.ts').BudgetSetFlags) =>
    (await load.budget()).budgetSet(await admin(), id, o),
  );
budget
  .command('rm <id>')
  .option('--json', 'print JSON')
  .action(async (id: string, o: { json?: boolean }) =>
    (await load.budget()).budgetRemove(await admin(), id, o.json === true),
  );

const collect = (v: string, all: string[] = []) => [...all, v];
const grants = program.command('grants').description('spending grants: what agents may pay, to whom, until when');
grants
  .command('create')
  .description('create a grant (needs a passkey once one is enrolled); amounts in atomic units')
  .requiredOption('--network <caip2>', 'where it settles, e.g. eip155:8453')
  .requiredOption('--asset <asset>', 'token address (x402) or msat (L402)')
  .requiredOption('--total <n>', 'the most the grant may ever pay')
  .requiredOption('--payee <address>', 'who may be paid (repeat for more)', collect)
  .requiredOption('--purpose <tool>', 'tool name or tag it may pay for (repeat for more)', collect)
  .option('--rail <rail>', 'x402 or l402', 'x402')
  .option('--velocity-amount <n>', 'the most per window (default: the total)')
  .option('--velocity-count <n>', 'payments per window', '10')
  .option('--window <seconds>', 'the velocity window in seconds', '3600')
  .option('--approval-above <n>', 'a single payment above this needs approval')
  .option('--expires <duration>', 'e.g. 30m, 12h, 7d', '7d')
  .option('--json', 'print JSON')
  .action(async (o: import('./commands/grants.ts').GrantCreateFlags) =>
    (await load.grants()).grantsCreate(await admin(), o),
  );
grants
  .command('list')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => (await load.grants()).grantsList(await admin(), o.json === true));
grants
  .command('revoke <id>')
  .option('--json', 'print JSON')
  .action(async (id: string, o: { json?: boolean }) =>
    (await load.grants()).grantsRevoke(await admin(), id, o.json === true),
  );
program
  .command('payments')
  .description('the payment wallet')
  .command('wallet-create')
  .description('create a software payment key (alias of keys create --role payment --backend software)')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => (await load.grants()).walletCreate(await admin(), o.json === true));

const operations = program.command('operations').description('guarded changes waiting for a passkey in the console');
operations
  .command('list')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => (await load.operations()).operationsList(await admin(), o.json === true));
operations
  .command('reject <id>')
  .option('--json', 'print JSON')
  .action(async (id: string, o: { json?: boolean }) =>
    (await load.operations()).operationsReject(await admin(), id, o.json === true),
  );

const approvals = program.command('approvals').description('see and decide pending approvals');
approvals
  .command('list')
  .description('waiting approvals, with a one-line summary of the arguments (full: `approvals show <id>`)')
  .option('--all', 'include decided, consumed and expired approvals')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean; all?: boolean }) =>
    (await load.approvals()).approvalsList(await admin(), o.json === true, o.all === true),
  );
approvals
  .command('watch')
  .description(
    'a live view of waiting approvals: ↑/↓ select, a approve, r reject, q quit (passkey-tier ones: in the console)',
  )
  .action(async () => (await load.approvalsWatch()).approvalsWatch(await admin()));
approvals
  .command('show <id>')
  .option('--json', 'print JSON')
  .action(async (id: string, o: { json?: boolean }) =>
    (await load.approvals()).approvalsShow(await admin(), id, o.json === true),
  );
approvals
  .command('approve <id>')
  .option('--json', 'print JSON')
  .action(async (id: string, o: { json?: boolean }) =>
    (await load.approvals()).approvalsDecide(await admin(), id, 'approve', o.json === true),
  );
approvals
  .command('reject <id>')
  .option('--json', 'print JSON')
  .action(async (id: string, o: { json?: boolean }) =>
    (await load.approvals()).approvalsDecide(await admin(), id, 'reject', o.json === true),
  );

const secrets = program.command('secrets').description('the vault (values never on the command line)');
secrets
  .command('set <name>')
  .description('store a secret; the value is read from stdin or a hidden prompt')
  .option('--description <text>', 'what this secret is for')
  .option('--json', 'print JSON')
  .action(async (name: string, o: { description?: string; json?: boolean }) =>
    (await load.secrets()).secretsSet(await admin(), name, o.description, o.json === true),
  );
secrets
  .command('list')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => (await load.secrets()).secretsList(await admin(), o.json === true));
secrets
  .command('rm <name>')
  .option('--json', 'print JSON')
  .action(async (name: string, o: { json?: boolean }) =>
    (await load.secrets()).secretsRemove(await admin(), name, o.json === true),
  );

const policy = program.command('policy').description('the Cedar policy');
policy
  .command('show')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => (await load.policy()).policyShow(await admin(), o.json === true));
policy
  .command('check <file>')
  .description('validate a policy file against the schema (no daemon needed)')
  .option('--json', 'print JSON')
  .action(async (file: string, o: { json?: boolean }) => {
    exitCode = await (await load.policy()).policyCheck(file, o.json === true);
  });
policy
  .command('apply <file>')
  .description('validate, then make it the active policy (receipted)')
  .option('--json', 'print JSON')
  .action(async (file: string, o: { json?: boolean }) => {
    exitCode = await (await load.policy()).policyApply(await admin(), file, o.json === true);
  });

const remote = program
  .command('remote')
  .description('MCP servers behind the Briefcase (their tools appear as server.tool)');
remote
  .command('add <name> [command...]')
  .description(
    'add a server: --stdio -- COMMAND ARGS… (spawned by the daemon) or --url URL (Streamable HTTP); one that cannot be reached is not added (exit 2, with the cause)',
  )
  .option('--stdio', 'a local server the daemon spawns; the command follows --')
  .option('--url <url>', 'a remote Streamable HTTP server')
  .option(
    '--env-allow <var...>',
    'environment variables passed to a stdio server (besides PATH, HOME, LANG, LC_ALL, TMPDIR, USER)',
  )
  .option('--env-secret <VAR=secret...>', 'set an environment variable of a stdio server from a vault secret')
  .option('--timeout <ms>', 'per-call timeout (default 60000)')
  .option('--client-id <id>', "OAuth: a client pre-registered at the server's authorization server")
  .option(
    '--client-secret-name <secret>',
    "OAuth: the vault secret holding that client's secret (confidential clients)",
  )
  .option('--client-metadata-url <url>', "OAuth: the Briefcase's client ID metadata document, if you publish one")
  .option('--allow-read <path...>', 'grant read-only access to a path (default: what its launcher needs)')
  .option('--allow-write <path...>', 'grant read-write access to a path')
  .option('--allow-net <host...>', 'grant a network host (host, host:port, *.domain)')
  .option('--allow-private', 'let granted hosts be loopback or private addresses')
  .option('--isolation <mode>', 'sandbox (default) or none (runs as you: needs confirmation, receipted)')
  .option('--pay <spec...>', 'the most one tool call may pay the server (x402): NETWORK,ASSET,MAX[,DECIMALS]')
  .option('--json', 'print JSON')
  .action(async (name: string, command: string[], o: RemoteAddFlags & { json?: boolean }) =>
    (await load.remote()).remoteAdd(await admin(), name, command, o, o.json === true),
  );
remote
  .command('access <name>')
  .description(
    'what a server may reach (files, network, env, secrets); --set FILE replaces it (widening needs a passkey)',
  )
  .option('--set <file>', 'a JSON access manifest (docs/sandbox.md)')
  .option('--json', 'print JSON')
  .action(async (name: string, o: { set?: string; json?: boolean }) =>
    (await load.remote()).remoteAccess(await admin(), name, o.set, o.json === true),
  );
remote
  .command('list')
  .description('servers, status, auth state, tools and their pinned definition hashes')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => (await load.remote()).remoteList(await admin(), o.json === true));
remote
  .command('login <name>')
  .description('authorize the Briefcase at an OAuth-protected server (prints the URL to open)')
  .option('--no-wait', 'print the URL and return without waiting for the login to finish')
  .option('--json', 'print JSON')
  .action(async (name: string, o: { wait: boolean; json?: boolean }) => {
    exitCode = await (await load.remote()).remoteLogin(await admin(), name, o.wait, o.json === true);
  });
remote
  .command('logout <name>')
  .description('revoke the tokens at the server (RFC 7009) where it can, and forget them')
  .option('--json', 'print JSON')
  .action(async (name: string, o: { json?: boolean }) =>
    (await load.remote()).remoteLogout(await admin(), name, o.json === true),
  );
remote
  .command('pin <name>')
  .description('accept the current (changed) tool definitions of a server after review')
  .option('--json', 'print JSON')
  .action(async (name: string, o: { json?: boolean }) =>
    (await load.remote()).remotePin(await admin(), name, o.json === true),
  );
remote
  .command('rm <name>')
  .option('--json', 'print JSON')
  .action(async (name: string, o: { json?: boolean }) =>
    (await load.remote()).remoteRemove(await admin(), name, o.json === true),
  );

const keys = program.command('keys').description('the keys the Briefcase signs with');
keys
  .command('list')
  .description('role, algorithm, backend, non-exportable?, thumbprint — current and rotated-out keys')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => (await load.keys()).keysList(paths(), o.json === true));
keys
  .command('backends')
  .description('what this machine offers: software, PKCS#11 modules and TPM, the OS keychain, what is not available')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => (await load.keys()).keysBackends(o.json === true));
keys
  .command('create')
  .description("make a new key the role's key; the old one is retired, not forgotten (the daemon must be stopped)")
  .requiredOption('--role <role>', 'identity, receipts, dpop or payment (the secp256k1 wallet key, never replaced)')
  .requiredOption('--backend <backend>', 'software or pkcs11 (a TPM is a PKCS#11 module: libtpm2_pkcs11.so)')
  .option('--algorithm <alg>', 'software keys: EdDSA (Ed25519) or ES256 (P-256); default EdDSA, ES256 for dpop')
  .option('--module <path>', 'pkcs11: the module, e.g. /usr/lib/softhsm/libsofthsm2.so')
  .option('--token <label>', 'pkcs11: the token label')
  .option('--label <label>', 'pkcs11: the key label on the token (default briefcase-<role>)')
  .option('--save-pin', 'pkcs11: keep the PIN in the vault so the daemon can start unattended')
  .option('--json', 'print JSON')
  .action(async (o: KeysCreateFlags & { json?: boolean }) =>
    (await load.keys()).keysCreate(paths(), o, o.json === true),
  );
keys
  .command('rotate')
  .description('a new software key for a role; old public keys stay known so old records still verify (receipted)')
  .requiredOption('--role <role>', 'identity, receipts or dpop (dpop: logged-in servers need a new login)')
  .option('--algorithm <alg>', "EdDSA or ES256 (default: the current key's)")
  .option('--json', 'print JSON')
  .action(async (o: { role: string; algorithm?: string; json?: boolean }) =>
    (await load.keys()).keysRotate(await admin(), o, o.json === true),
  );

keys
  .command('move-master')
  .description('move the vault master key to the OS keychain or to a key file (same key; nothing is re-sealed)')
  .requiredOption('--to <where>', 'keychain or file')
  .option('--json', 'print JSON')
  .action(async (o: { to: string; json?: boolean }) =>
    (await load.keys()).keysMoveMaster(paths(), o.to, o.json === true),
  );

const receipts = program.command('receipts').description('the tamper-evident receipt log');
receipts
  .command('list')
  .description('receipts, newest first: time, kind, tool, outcome, id')
  .option('--kind <kind>', 'only this kind (tool_call, approval, remote, …)')
  .option('--tool <name>', 'only calls of this tool')
  .option('--outcome <code>', 'only this outcome (ok, denied, approval_required, …)')
  .option('-n, --limit <n>', 'how many (1-200, default 50)')
  .option('--before <seq>', 'older than this sequence number (paging)')
  .option('--json', 'print JSON')
  .action(
    async (o: { kind?: string; tool?: string; outcome?: string; limit?: string; before?: string; json?: boolean }) => {
      const { json, ...filter } = o;
      await (await load.receiptsView()).receiptsList(await admin(), filter, json === true);
    },
  );
receipts
  .command('show <id>')
  .description('one receipt in full')
  .option('--json', 'print JSON')
  .action(async (id: string, o: { json?: boolean }) => {
    await (await load.receiptsView()).receiptsShow(await admin(), id, o.json === true);
  });
receipts
  .command('export')
  .requiredOption('--out <file>', 'where to write the JSON Lines export')
  .option('--json', 'print JSON')
  .action(async (o: { out: string; json?: boolean }) => {
    const client = await adminIfInitialised();
    await (await load.receipts()).receiptsExport(client, paths(), o.out, o.json === true);
  });
receipts
  .command('verify [file]')
  .description('verify an export (or the local log) offline; names the first bad sequence number')
  .option('--public-key <file>', 'trust this key ({"key_id","jwk"}) instead of the local one')
  .option(
    '--device <device_id>',
    "trust the receipts keys this device's signed statement vouches for, each within its validity interval",
  )
  .option('--extends <earlier>', 'an earlier export kept elsewhere: fail unless this log extends it (rollback)')
  .option('--json', 'print JSON')
  .action(
    async (file: string | undefined, o: { publicKey?: string; device?: string; extends?: string; json?: boolean }) => {
      exitCode = await (
        await load.receipts()
      ).receiptsVerify(
        file ? null : await adminIfInitialised(),
        paths(),
        file,
        { publicKeyFile: o.publicKey, device: o.device, extendsFile: o.extends },
        o.json === true,
      );
    },
  );

const service = program
  .command('service')
  .description('run the daemon as a service: systemd (Linux) or a launchd agent (macOS); docs/service.md');
service
  .command('install')
  .description('a system user owns the data and runs the daemon; agents reach it through a group-owned socket')
  .option('--dedicated-user', 'Linux: run the daemon as its own system user under systemd')
  .option('--launchd', 'macOS: your own daemon as a launchd agent started at login (the default on macOS)')
  .option('--user <name>', 'the system user that owns the data and runs the daemon', 'briefcase')
  .option('--group <name>', 'the group whose members may use the agent socket', 'briefcase-agents')
  .option(
    '--socket-dir <dir>',
    'where the agent socket goes (under /run: a systemd RuntimeDirectory)',
    '/run/briefcase',
  )
  .option('--unit-dir <dir>', 'where the unit is written', '/etc/systemd/system')
  .option('--add-user <name...>', 'add these people to the group (else the usermod command is printed)')
  .option('--node <path>', 'the Node 24 the unit runs (default: this one)')
  .option('--no-start', 'write everything but do not start the service')
  .option('--dry-run', 'print what it would do and the unit; change nothing')
  .option('--json', 'print JSON')
  .action(async (o: Omit<ServiceInstallFlags, 'home'> & { launchd?: boolean; json?: boolean }) => {
    if (o.launchd || (process.platform === 'darwin' && !o.dedicatedUser)) {
      exitCode = (await import('./commands/service-launchd.ts')).launchdInstall(home(), o, o.json === true);
      return;
    }
    // The global --home names the service's data directory; BRIEFCASE_HOME (a root shell's) does not.
    const dataDir = program.opts<{ home?: string }>().home ?? '/var/lib/briefcase';
    exitCode = (await load.service()).serviceInstall({ ...o, home: resolve(dataDir) }, o.json === true);
  });
service
  .command('uninstall')
  .description('stop and remove the unit; the user, the group and the data stay unless --purge')
  .option('--unit-dir <dir>', 'where the unit is', '/etc/systemd/system')
  .option('--purge', 'also delete the data directory (secrets, keys, receipts), the user and the groups')
  .option('--launchd', 'macOS: remove the launchd agent (the default on macOS)')
  .option('--dry-run', 'print what it would do; change nothing')
  .option('--json', 'print JSON')
  .action(async (o: { unitDir: string; purge?: boolean; launchd?: boolean; dryRun?: boolean; json?: boolean }) => {
    if (o.launchd || process.platform === 'darwin') {
      exitCode = (await import('./commands/service-launchd.ts')).launchdUninstall(o, o.json === true);
      return;
    }
    exitCode = (await load.service()).serviceUninstall(o, o.json === true);
  });
service
  .command('status')
  .description('the unit, the service user, the data directory and the agent socket')
  .option('--unit-dir <dir>', 'where the unit is', '/etc/systemd/system')
  .option('--json', 'print JSON')
  .action(async (o: { unitDir: string; json?: boolean }) => {
    exitCode = await (await load.service()).serviceStatus(o, o.json === true);
  });

const extension = program.command('extension').description('the browser extension and its native messaging host');
for (const [name, description] of [
  ['install', 'register the native messaging host for a Chromium-based browser; prints how to load the extension'],
  ['uninstall', 'remove the native messaging host registration'],
] as const) {
  extension
    .command(name)
    .description(description)
    .option('--browser <browser>', 'chromium or chrome', 'chromium')
    .option('--user-data-dir <dir>', 'a browser profile started with --user-data-dir: register the host in it')
    .option('--json', 'print JSON')
    .action(async (o: ExtensionFlags & { json?: boolean }) => {
      const commands = await load.extension();
      (name === 'install' ? commands.extensionInstall : commands.extensionUninstall)(paths(), o, o.json === true);
    });
}

program
  .command('status')
  .description('is the daemon running? pid, version, uptime, listeners, data dir, tools, receipts, approvals, spend')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => (await load.lifecycle()).status(await admin(), o.json === true));

program
  .command('logs')
  .description("the daemon log, or a stdio server's stderr log (--server); -f follows")
  .option('-f, --follow', 'keep printing lines as they are written (across rotations)')
  .option('--server <name>', "a remote stdio server's stderr log instead of the daemon log")
  .option('-n, --lines <n>', 'how many of the last lines to print (default 50)')
  .option('--raw', 'the daemon log as written (JSON lines)')
  .action(async (o: { follow?: boolean; server?: string; lines?: string; raw?: boolean }) => {
    await (await load.logs()).logs(paths(), o);
  });

program
  .command('doctor')
  .description('check the installation and the daemon')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => {
    const client = await adminIfInitialised();
    exitCode = await (await load.doctor()).doctor(paths(), client, o.json === true);
  });

try {
  await program.parseAsync(process.argv);
  process.exitCode = exitCode;
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof BriefcaseError) {
    // warn() escapes every control; a message may keep its own lines (several config errors).
    warn(`briefcase: ${e.message} [${e.code}]`);
    // 4: a person must confirm the change with a passkey in the console (the link is in the message).
    process.exitCode = e.code === 'daemon_unreachable' ? 3 : e.code === 'presence_required' ? 4 : 2;
  } else {
    warn(`briefcase: ${(e as Error).message ?? String(e)}`);
    process.exitCode = 2;
  }
}
