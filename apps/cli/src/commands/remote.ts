import { BriefcaseError } from '@briefcase/protocol/errors';
import type { AdminClient } from '../client.ts';
import { clip, print, printJson, table } from '../output.ts';
import { oneLine } from '../safe-text.ts';

interface RemoteSummary {
  name: string;
  transport: string;
  target: string;
  status: string;
  error: string | null;
  auth: string;
  tools: RemoteTool[];
  access: Parameters<typeof describeAccess>[0];
  access_notes?: string[];
}

interface RemoteTool {
  name: string;
  remote_name: string;
  hash: string;
  pinned: string | null;
  pinned_name: string | null;
  state: 'pinned' | 'new' | 'changed';
  changed: boolean;
  why: string | null;
  description: string | null;
}

/** Each tool as an admin reviews it: name, original name, hash, and what is held back and why. */
function toolLines(tools: RemoteTool[], only?: (t: RemoteTool) => boolean): string[] {
  return tools
    .filter((t) => !only || only(t))
    .map((t) => {
      const head = `  ${oneLine(t.name)}  (server's name: ${oneLine(JSON.stringify(t.remote_name))}, hash ${t.hash.slice(0, 16)})  ${t.state}`;
      const why = t.why ? `\n      ${oneLine(t.why)}` : '';
      const description = t.description !== null ? `\n      description: ${oneLine(t.description)}` : '';
      return head + why + description;
    });
}

export interface RemoteAddFlags {
  stdio?: boolean;
  url?: string;
  envAllow?: string[];
  envSecret?: string[];
  timeout?: string;
  clientId?: string;
  clientSecretName?: string;
  clientMetadataUrl?: string;
  allowRead?: string[];
  allowWrite?: string[];
  allowNet?: string[];
  allowPrivate?: boolean;
  isolation?: string;
  pay?: string[];
}

/** `--pay NETWORK,ASSET,MAX[,DECIMALS]`: the most one call may pay (docs/payments.md). */
function paymentsFromFlags(o: RemoteAddFlags): Record<string, unknown> {
  if (!o.pay) return {};
  return {
    payments: o.pay.map((entry) => {
      const [network, asset, max, decimals, ...rest] = entry.split(',');
      if (!network || !asset || !max || rest.length || !/^(0|[1-9][0-9]*)$/.test(max)) {
        throw new BriefcaseError(
          'bad_request',
          `--pay ${entry}: expected NETWORK,ASSET,MAX[,DECIMALS] with MAX in atomic units, e.g. eip155:8453,0x8335…2913,100000,6`,
        );
      }
      return { network, asset: asset.toLowerCase(), max, ...(decimals ? { decimals: Number(decimals) } : {}) };
    }),
  };
}

/** An access manifest from --allow-* flags, or undefined when none is given (the daemon infers one). */
function accessFromFlags(o: RemoteAddFlags): Record<string, unknown> | undefined {
  const any = o.allowRead || o.allowWrite || o.allowNet || o.allowPrivate || o.isolation;
  if (!any) return undefined;
  if (o.isolation !== undefined && o.isolation !== 'sandbox' && o.isolation !== 'none') {
    throw new BriefcaseError('bad_request', `--isolation must be sandbox or none, not "${o.isolation}"`);
  }
  return {
    ...(o.isolation ? { isolation: o.isolation } : {}),
    filesystem: [
      ...(o.allowRead ?? []).map((path) => ({ path, access: 'ro' })),
      ...(o.allowWrite ?? []).map((path) => ({ path, access: 'rw' })),
    ],
    network: o.allowNet ?? [],
    allow_private: o.allowPrivate === true,
  };
}

/** What a server may reach, in the words `remote add` and `remote access` print. */
export function describeAccess(a: {
  isolation: string;
  filesystem: { path: string; access: string }[];
  network: string[];
  allow_private: boolean;
  env: string[];
  secrets: Record<string, string>;
}): string[] {
  if (a.isolation === 'none') return ['  isolation: NONE — it runs with your user’s files and network'];
  return [
    `  files:    ${a.filesystem.length ? a.filesystem.map((f) => `${f.path} (${f.access === 'rw' ? 'read-write' : 'read-only'})`).join(', ') : 'only its own directory'}`,
    `  network:  ${a.network.length ? a.network.join(', ') : 'none'}${a.allow_private ? ' (private addresses allowed)' : ''}`,
    `  env:      ${a.env.length ? a.env.join(', ') : '-'}; secrets: ${
      Object.keys(a.secrets).length
        ? Object.entries(a.secrets)
            .map(([v, n]) => `${v}=${n}`)
            .join(', ')
        : '-'
    }`,
  ];
}

/** `briefcase remote add NAME --stdio -- CMD ARGS…` or `briefcase remote add NAME --url URL`. */
export async function remoteAdd(
  c: AdminClient,
  name: string,
  command: string[],
  o: RemoteAddFlags,
  json: boolean,
): Promise<void> {
  if (o.stdio === (o.url !== undefined)) {
    throw new BriefcaseError('bad_request', 'give exactly one of --stdio -- COMMAND ARGS… or --url URL');
  }
  const timeout = o.timeout === undefined ? {} : { timeout_ms: Number(o.timeout) };
  let body: Record<string, unknown>;
  if (o.stdio) {
    if (command.length === 0)
      throw new BriefcaseError('bad_request', 'after --stdio, give the command: -- npx some-mcp-server');
    const envSecrets: Record<string, string> = {};
    for (const pair of o.envSecret ?? []) {
      const [variable, secret] = pair.split('=');
      if (!variable || !secret)
        throw new BriefcaseError('bad_request', `--env-secret ${pair}: expected VAR=secret_name`);
      envSecrets[variable] = secret;
    }
    const access = accessFromFlags(o);
    body = {
      name,
      transport: 'stdio',
      command: command[0],
      args: command.slice(1),
      env_allow: o.envAllow ?? [],
      env_secrets: envSecrets,
      ...(access ? { access } : {}),
      ...paymentsFromFlags(o),
      ...timeout,
    };
  } else {
    const oauth = {
      ...(o.clientId ? { client_id: o.clientId } : {}),
      ...(o.clientSecretName ? { client_secret_name: o.clientSecretName } : {}),
      ...(o.clientMetadataUrl ? { client_metadata_url: o.clientMetadataUrl } : {}),
    };
    const access = accessFromFlags(o);
    body = {
      name,
      transport: 'http',
      url: o.url,
      oauth,
      ...(access ? { access } : {}),
      ...paymentsFromFlags(o),
      ...timeout,
    };
  }
  const summary = await c.post<RemoteSummary>('/v1/admin/remotes', body);
  if (json) return printJson(summary);
  print(
    `Added ${oneLine(summary.name)} (${oneLine(summary.status)}${summary.error ? `: ${oneLine(summary.error)}` : ''}).`,
  );
  print('It may reach:');
  print(describeAccess(summary.access).map(oneLine).join('\n'));
  for (const note of summary.access_notes ?? []) print(`  granted: ${oneLine(note)}`);
  const pinned = summary.tools.filter((t) => t.state === 'pinned');
  if (pinned.length) {
    print(`Pinned ${pinned.length} tools as listed now; review them (the agent sees them as below):`);
    print(toolLines(pinned).join('\n'));
  } else if (summary.status !== 'connected') {
    print(
      `No tools listed yet: once it connects, review them with \`${c.command('remote', 'list')}\` and accept with \`${c.command('remote', 'pin', name)}\`.`,
    );
  }
}

export async function remoteList(c: AdminClient, json: boolean): Promise<void> {
  const { servers } = await c.get<{ servers: RemoteSummary[] }>('/v1/admin/remotes');
  if (json) return printJson({ servers });
  if (servers.length === 0) return print(`No remote MCP servers. Add one with \`${c.command('remote', 'add')}\`.`);
  print(
    table([
      ['NAME', 'TRANSPORT', 'STATUS', 'AUTH', 'TOOLS', 'NEW', 'CHANGED', 'TARGET'],
      ...servers.map((s) => [
        s.name,
        s.transport,
        s.status,
        s.auth,
        String(s.tools.length),
        String(s.tools.filter((t) => t.state === 'new').length),
        String(s.tools.filter((t) => t.state === 'changed').length),
        oneLine(clip(s.target, 60)),
      ]),
    ]),
  );
  for (const s of servers) {
    const held = toolLines(s.tools, (t) => t.state !== 'pinned');
    if (held.length === 0) continue;
    print(
      `\n${s.name}: hidden from the agent until reviewed (\`${c.command('remote', 'pin', s.name)}\` accepts them):`,
    );
    print(held.join('\n'));
  }
}

export async function remotePin(c: AdminClient, name: string, json: boolean): Promise<void> {
  const summary = await c.post<RemoteSummary>(`/v1/admin/remotes/${encodeURIComponent(name)}/pin`);
  if (json) return printJson(summary);
  print(
    `Pinned the current definitions of ${summary.tools.filter((t) => t.state === 'pinned').length} tools of ${oneLine(name)}:`,
  );
  print(toolLines(summary.tools).join('\n'));
}

export async function remoteRemove(c: AdminClient, name: string, json: boolean): Promise<void> {
  await c.delete(`/v1/admin/remotes/${encodeURIComponent(name)}`);
  if (json) printJson({ ok: true, name });
  else print(`Removed ${oneLine(name)}.`);
}

/** Prints the authorization URL, then waits until the daemon has the tokens (or gives up). */
export async function remoteLogin(c: AdminClient, name: string, wait: boolean, json: boolean): Promise<number> {
  const { authorization_url } = await c.post<{ authorization_url: string }>(
    `/v1/admin/remotes/${encodeURIComponent(name)}/login`,
  );
  if (json && !wait) {
    printJson({ authorization_url });
    return 0;
  }
  if (!json) {
    print(
      `Open this URL in a browser to authorize the Briefcase for ${oneLine(name)}:\n\n  ${oneLine(authorization_url)}\n`,
    );
    print('Waiting for the authorization server to send you back (Ctrl-C to stop waiting)…');
  }
  const deadline = Date.now() + 10 * 60 * 1000;
  while (Date.now() < deadline) {
    const { servers } = await c.get<{ servers: RemoteSummary[] }>('/v1/admin/remotes');
    const s = servers.find((x) => x.name === name);
    if (s?.auth === 'authorized' && s.status === 'connected') {
      if (json) printJson({ authorization_url, ok: true, status: s.status, tools: s.tools.length });
      else {
        print(`Logged in: ${oneLine(name)} is connected with ${s.tools.length} tools.`);
        if (s.tools.length) print(toolLines(s.tools).join('\n'));
      }
      return 0;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (json) printJson({ authorization_url, ok: false });
  else print(`Gave up waiting; \`${c.command('remote', 'list')}\` shows the state.`);
  return 1;
}

export async function remoteLogout(c: AdminClient, name: string, json: boolean): Promise<void> {
  const r = await c.post<{ revoked: string[] }>(`/v1/admin/remotes/${encodeURIComponent(name)}/logout`);
  if (json) printJson({ ok: true, name, revoked: r.revoked });
  else
    print(
      `Logged out of ${oneLine(name)}${r.revoked.length ? ` (revoked at the server: ${r.revoked.map(oneLine).join(', ')})` : ''}.`,
    );
}

/** `briefcase remote access NAME [--set FILE]`: show or replace what a server may reach. */
export async function remoteAccess(
  c: AdminClient,
  name: string,
  file: string | undefined,
  json: boolean,
): Promise<void> {
  if (file) {
    const { readFileSync } = await import('node:fs');
    let access: unknown;
    try {
      access = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new BriefcaseError('bad_request', `${file}: not a JSON access manifest: ${(e as Error).message}`);
    }
    const summary = await c.put<RemoteSummary>(`/v1/admin/remotes/${encodeURIComponent(name)}/access`, access);
    if (json) return printJson(summary);
    print(`${oneLine(name)} now may reach:`);
    return print(describeAccess(summary.access).map(oneLine).join('\n'));
  }
  const { servers } = await c.get<{ servers: RemoteSummary[] }>('/v1/admin/remotes');
  const s = servers.find((x) => x.name === name);
  if (!s) throw new BriefcaseError('not_found', `no remote server ${name}`);
  if (json) return printJson(s.access);
  print(`${oneLine(name)} may reach:`);
  print(describeAccess(s.access).map(oneLine).join('\n'));
}
