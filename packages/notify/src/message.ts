/**
 * What a desktop notification says. Runtime-neutral: no Node built-ins.
 *
 * A notification is seen by whoever looks at the screen and is often kept in a history, so it
 * names only what the person needs to find the request: the tool, where it comes from, the
 * approval id, and how to approve. Never an argument value: the agent chooses the arguments, and
 * they may carry a secret it was handed or text written to mislead ("approve this, it is safe").
 */

export interface Notice {
  /** One short line (the notification's title). */
  summary: string;
  /** A few lines; plain text, escaped for servers that read body markup. */
  body: string;
}

export interface ApprovalFacts {
  id: string;
  tool: string;
  /** builtin, http, sandbox, remote_mcp. */
  origin: string;
  tier: string;
  expires_at: string;
}

export interface NoticeHints {
  /** The command that approves, as it works where the person reads it (e.g. `briefcase`). */
  command: string;
  /** The console, when it runs (http://localhost:PORT). */
  consoleUrl?: string | undefined;
}

/** At most this many characters of a name: a notification is not the place to read a long one. */
const MAX_NAME = 80;

/**
 * Names come from connectors and remote servers (a hostile server chooses its tool names):
 * controls, format and bidi characters are dropped, and the length is capped.
 */
export function plainName(text: string, max = MAX_NAME): string {
  const cleaned = text.replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu, '').trim();
  const chars = [...cleaned];
  return chars.length <= max ? cleaned : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * The Desktop Notifications spec lets a server read a subset of HTML in the body ("body-markup"):
 * `&`, `<` and `>` are escaped so a name cannot become a link or hide text.
 */
export function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The server a remote tool comes from is the part of its name before the first dot. */
function source(a: ApprovalFacts): string {
  if (a.origin === 'remote_mcp') {
    const dot = a.tool.indexOf('.');
    return `remote server ${dot > 0 ? a.tool.slice(0, dot) : a.tool}`;
  }
  if (a.origin === 'http') return 'HTTP connector';
  if (a.origin === 'sandbox') return 'code tool';
  return 'built-in tool';
}

export function approvalNotice(a: ApprovalFacts, hints: NoticeHints): Notice {
  const tool = plainName(a.tool);
  const id = plainName(a.id, 40);
  const link = hints.consoleUrl ? `${hints.consoleUrl}/#/approvals/${id}` : undefined;
  const how =
    a.tier === 'local'
      ? [`Approve: ${hints.command} approvals approve ${id}`, `or: ${hints.command} approvals watch`]
      : [`Needs your passkey (${plainName(a.tier, 20)} tier): approve it in the console`];
  const lines = [
    `${tool} (${plainName(source(a))}) is waiting for your approval.`,
    `Approval ${id}, expires ${plainName(a.expires_at, 40)}.`,
    ...how,
    ...(link ? [`Console: ${link}`] : []),
  ];
  return { summary: `Briefcase: approve ${tool}?`, body: escapeMarkup(lines.join('\n')) };
}

export interface OperationFacts {
  id: string;
  /** The kind of change (e.g. policy.set, remote.add): never its parameters. */
  kind: string;
}

export function operationNotice(op: OperationFacts, hints: NoticeHints): Notice {
  const kind = plainName(op.kind, 40);
  const id = plainName(op.id, 40);
  const where = hints.consoleUrl
    ? `Confirm it with your passkey: ${hints.consoleUrl}/#/operations/${id}`
    : `Confirm it with your passkey in the console (\`${hints.command} console\`).`;
  return {
    summary: `Briefcase: confirm ${kind}?`,
    body: escapeMarkup([`A change (${kind}, ${id}) is waiting for your passkey.`, where].join('\n')),
  };
}
