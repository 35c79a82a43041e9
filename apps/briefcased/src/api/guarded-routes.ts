import { AccessManifest, BriefcaseError, JsonObject } from '@briefcase/protocol';
import { z } from 'zod';
import { accessWidens } from '../admin/access.ts';
import { capWidens, currentCap, parseCap, writeCap } from '../admin/budget-caps.ts';
import { removeCodeTool } from '../admin/code-tools.ts';
import { removeCommandTool } from '../admin/command-tools.ts';
import { effectiveAccess } from '../remote/infer-access.ts';
import { connectorFile, removeConnector } from '../admin/connectors.ts';
import type { Services } from '../daemon.ts';
import { guarded, operationUrl, rejectOperation } from '../presence/guard.ts';
import { readJson, sendJson } from './http.ts';
import type { Route } from './routes.ts';
import { cli } from '../cli-hint.ts';

const ID = '([A-Za-z0-9_.-]{1,64})';
const ViewerSessionRequest = z.object({ ttl_seconds: z.number().int().min(1).max(600).optional() }).strict();

/**
 * Admin routes added with guarded administration (issue 9): budget caps and connectors (widening
 * changes need a passkey once one exists, narrowing ones never do), the guarded operations the
 * CLI waits on, and the console's links and viewer sessions.
 */
export function guardedAdminRoutes(s: Services): Route[] {
  const limit = s.config.limits.max_request_bytes;
  const needConsole = () => {
    if (!s.console) {
      throw new BriefcaseError(
        'unavailable',
        `the console is not running: enable it (config console.enabled, or \`${cli('start', '--console-port')} N\`) and check the daemon log`,
      );
    }
    return s.console;
  };
  return [
    {
      method: 'GET',
      path: /^\/v1\/admin\/budgets$/,
      role: 'admin',
      handle: ({ res }) =>
        sendJson(res, 200, {
          currency: s.config.budgets.currency,
          caps: s.config.budgets.caps.map((c) => ({ ...c, spent: s.ledger.spentFor(c) })),
        }),
    },
    {
      method: 'PUT',
      path: new RegExp(`^/v1/admin/budgets/caps/${ID}$`),
      role: 'admin',
      handle: async ({ req, res, params }) => {
        const body = await readJson(req, limit, JsonObject);
        const cap = parseCap({ ...body, id: params[0] });
        // Tightening (a new cap, a lower limit, approval → deny) is never held up.
        if (!capWidens(currentCap(s, cap.id), cap)) sendJson(res, 200, writeCap(s, cap.id, cap));
        else await guarded(s, res, 'budget_cap_set', { cap });
      },
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/v1/admin/budgets/caps/${ID}$`),
      role: 'admin',
      handle: ({ res, params }) => guarded(s, res, 'budget_cap_remove', { id: params[0]! }),
    },
    {
      // A remote server's access manifest: narrowing runs at once, widening is guarded.
      method: 'PUT',
      path: new RegExp(`^/v1/admin/remotes/${ID}/access$`),
      role: 'admin',
      handle: async ({ req, res, params }) => {
        const name = params[0]!;
        const parsed = AccessManifest.safeParse(await readJson(req, limit, JsonObject));
        if (!parsed.success) {
          const i = parsed.error.issues[0];
          throw new BriefcaseError('bad_request', `access.${i?.path.join('.') ?? ''}: ${i?.message ?? 'invalid'}`);
        }
        const widens = accessWidens(effectiveAccess(s.remotes.config(name)), parsed.data);
        if (widens.length === 0) sendJson(res, 200, await s.remotes.setAccess(name, parsed.data));
        else await guarded(s, res, 'remote_access_set', { name, access: parsed.data });
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/admin\/connectors$/,
      role: 'admin',
      // Every file in connectors/ with its state: ok, or disabled with the reason.
      handle: ({ res }) => sendJson(res, 200, { connectors: s.connectors.list() }),
    },
    {
      method: 'POST',
      path: /^\/v1\/admin\/connectors$/,
      role: 'admin',
      handle: async ({ req, res }) => {
        const body = await readJson(req, limit, z.object({ file: z.string(), manifest: JsonObject }).strict());
        await guarded(s, res, 'connector_add', { file: connectorFile(body.file), manifest: body.manifest });
      },
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/v1/admin/connectors/${ID}$`),
      role: 'admin',
      handle: ({ res, params }) => sendJson(res, 200, removeConnector(s, connectorFile(params[0]!))),
    },
    {
      method: 'GET',
      path: /^\/v1\/admin\/code-tools$/,
      role: 'admin',
      handle: ({ res }) =>
        sendJson(res, 200, {
          tools: s.registry
            .list()
            .filter((t) => s.registry.owner(t.name)?.kind === 'code')
            .map((t) => ({ name: t.name, description: t.description })),
        }),
    },
    {
      // Adding code widens what an agent can do: guarded like connector_add (issue 10).
      method: 'POST',
      path: /^\/v1\/admin\/code-tools$/,
      role: 'admin',
      handle: async ({ req, res }) => {
        const body = await readJson(req, limit, z.object({ manifest: JsonObject, code_base64: z.string() }).strict());
        await guarded(s, res, 'code_tool_add', body);
      },
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/v1/admin/code-tools/${ID}$`),
      role: 'admin',
      handle: ({ res, params }) => sendJson(res, 200, removeCodeTool(s, params[0]!)),
    },
    {
      // A program an agent can run (issue 10, command tools): guarded like code_tool_add.
      method: 'POST',
      path: /^\/v1\/admin\/command-tools$/,
      role: 'admin',
      handle: async ({ req, res }) => {
        const body = await readJson(req, limit, z.object({ definition: JsonObject }).strict());
        await guarded(s, res, 'command_tool_add', body);
      },
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/v1/admin/command-tools/${ID}$`),
      role: 'admin',
      handle: ({ res, params }) => sendJson(res, 200, removeCommandTool(s, params[0]!)),
    },
    {
      method: 'GET',
      path: /^\/v1\/admin\/operations$/,
      role: 'admin',
      handle: ({ res }) => sendJson(res, 200, { operations: s.operations.list().map((o) => withUrl(s, o)) }),
    },
    {
      method: 'GET',
      path: new RegExp(`^/v1/admin/operations/${ID}$`),
      role: 'admin',
      handle: ({ res, params }) => {
        const op = s.operations.get(params[0]!);
        if (!op) throw new BriefcaseError('not_found', `no operation ${params[0]}`);
        sendJson(res, 200, withUrl(s, op));
      },
    },
    {
      // Narrowing: anyone with the admin credential may call a pending change off.
      method: 'POST',
      path: new RegExp(`^/v1/admin/operations/${ID}/reject$`),
      role: 'admin',
      handle: ({ res, params }) => sendJson(res, 200, withUrl(s, rejectOperation(s, params[0]!))),
    },
    {
      method: 'POST',
      path: /^\/v1\/admin\/console\/link$/,
      role: 'admin',
      handle: ({ res }) => {
        const c = needConsole();
        const link = s.presence.createEnrolLink();
        sendJson(res, 200, {
          url: c.url,
          passkeys: s.presence.passkeys.count(),
          ...(link ? { enrol_url: `${c.url}/#/enrol/${link.token}`, expires_at: link.expires_at } : {}),
        });
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/admin\/console\/viewer-session$/,
      role: 'admin',
      handle: async ({ req, res }) => {
        // A caller may ask for a shorter life than the console's default (10 minutes), never a longer one.
        const body = await readJson(req, limit, ViewerSessionRequest);
        const c = needConsole();
        sendJson(res, 200, { ...c.mintViewerSession(body.ttl_seconds), console_url: c.url });
      },
    },
  ];
}

function withUrl(s: Services, op: ReturnType<Services['operations']['get']> & object) {
  const { params: _params, ...view } = op;
  return { ...view, url: operationUrl(s, op.id) };
}
