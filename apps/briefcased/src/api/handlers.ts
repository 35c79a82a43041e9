import { sha256Hex } from '@briefcase/crypto';
import { compilePolicy, PolicyEngine } from '@briefcase/policy';
import {
  BriefcaseError,
  JsonObject,
  PolicyDocument,
  SecretPutRequest,
  ToolCallRequest,
  type ApprovalView,
  type PolicyCheckResponse,
  type ToolCallResponse,
} from '@briefcase/protocol';
import { KEY_ALGORITHMS, KEY_ROLES } from '@briefcase/keys';
import { Secret, Vault } from '@briefcase/vault';
import { z } from 'zod';
import type { Services } from '../daemon.ts';
import { refreshDeviceStatement } from '../keys/device-statement.ts';
import { guarded } from '../presence/guard.ts';
import { transaction } from '../store/db.ts';
import { toolAccessText } from '../tools/access-view.ts';
import { firewallResponses, viewText, WITHHELD_MESSAGE } from './agent-view.ts';
import { readJson, sendJson } from './http.ts';
import { AGENT_LISTS, type AgentList } from './list-version.ts';
import { catalogRoutes } from './catalog-routes.ts';
import { guardedAdminRoutes } from './guarded-routes.ts';
import { paymentRoutes } from './payment-routes.ts';
import { receiptViewRoutes } from './receipt-routes.ts';
import type { Route } from './routes.ts';
import { VERSION } from '../version.ts';

const ID = '([A-Za-z0-9_-]{1,64})';
const NAME = '([A-Za-z0-9_.%-]{1,200})';
const MAX_WAIT_MS = 60_000;

export function buildRoutes(s: Services): Route[] {
  const limit = s.config.limits.max_request_bytes;

  /**
   * A tool call. With `Accept: application/x-ndjson` the answer streams: progress and log lines
   * (`{"type":"progress"|"log",…}`, scrubbed like results) and then the response as the last line.
   */
  const call = async (role: 'agent' | 'admin', ctx: Parameters<Route['handle']>[0]) => {
    const body = await readJson(ctx.req, limit, ToolCallRequest);
    // The agent's responses are firewalled by the server; an admin's tool calls are too.
    if (role === 'admin') {
      firewallResponses(ctx.res, s.scrubber, () => s.logger.warn('tool call response withheld', { tool: body.tool }));
    }
    // W3C Trace Context from the gateway: the call's spans join the gateway's trace.
    const tp = ctx.req.headers.traceparent;
    const traceparent = typeof tp === 'string' && tp.length <= 128 ? tp : undefined;
    if (!ctx.req.headers.accept?.includes('application/x-ndjson')) {
      const response: ToolCallResponse = await s.pipeline.call(body.tool, body.args, role, ctx.signal, {
        traceparent,
      });
      sendJson(ctx.res, 200, response);
      return;
    }
    ctx.res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    // Each line passes the agent firewall (agent-view.ts); a withheld event is dropped.
    const emit = (event: Record<string, unknown>) => {
      const line = viewText(ctx.res, event);
      if (line !== undefined) ctx.res.write(`${line}\n`);
    };
    const response = await s.pipeline.call(body.tool, body.args, role, ctx.signal, {
      onProgress: (p) => emit({ type: 'progress', ...p }),
      onLog: (l) => emit({ type: 'log', ...l }),
      traceparent,
    });
    const last =
      viewText(ctx.res, response) ??
      JSON.stringify({
        ok: false,
        receipt_id: response.receipt_id,
        error: { code: 'internal', message: WITHHELD_MESSAGE },
      });
    ctx.res.end(`${last}\n`);
  };

  /** An approver sees what the tool may reach (admin API only: the agent's view is not widened). */
  const withAccess = (a: ApprovalView): ApprovalView => {
    const access = toolAccessText(s, a.tool);
    return access ? { ...a, access } : a;
  };
  const approvalOr404 = (id: string): ApprovalView => {
    const a = s.approvals.get(id);
    if (!a) throw new BriefcaseError('not_found', `no approval ${id}`);
    return a;
  };

  const decide = (id: string, to: 'approved' | 'rejected'): ApprovalView => {
    const a = approvalOr404(id);
    if (a.status !== 'pending') throw new BriefcaseError('conflict', `approval ${id} is ${a.status}, not pending`);
    if (to === 'approved' && a.tier !== 'local') {
      const where = s.console ? `${s.console.url}/#/approvals/${id}` : 'the console';
      throw new BriefcaseError(
        'presence_required',
        `approval ${id} needs the ${a.tier} tier, which the CLI cannot give (only "local"): approve it with your passkey at ${where}. It can still be rejected here.`,
      );
    }
    transaction(s.db, () => {
      if (!s.approvals.transition(id, 'pending', to)) {
        throw new BriefcaseError('conflict', `approval ${id} expired or was decided meanwhile`);
      }
      s.receipts.append('approval', 'admin', {
        event: to,
        approval_id: id,
        call_hash: a.call_hash,
        tool: a.tool,
        tier: a.tier,
      });
    });
    s.approvals.notify(id);
    s.logger.info(`approval ${to}`, { approval: id, tool: a.tool });
    return approvalOr404(id);
  };

  const checkPolicy = (text: string): PolicyCheckResponse => {
    const compiled = compilePolicy(text);
    return compiled.ok
      ? { ok: true, errors: [], warnings: compiled.value.warnings, hash: sha256Hex(text) }
      : { ok: false, errors: compiled.error, warnings: [], hash: null };
  };

  return [
    ...guardedAdminRoutes(s),
    ...catalogRoutes(s),
    ...paymentRoutes(s),
    ...receiptViewRoutes(s),
    {
      method: 'GET',
      path: /^\/v1\/health$/,
      role: 'any',
      handle: ({ res, role }) => sendJson(res, 200, { ok: true, version: '0.1.0', role }),
    },
    // Agent surface: list tools, call tools, read its own approvals. Nothing else.
    {
      method: 'GET',
      path: /^\/v1\/agent\/tools$/,
      role: 'agent',
      handle: ({ res }) => sendJson(res, 200, { tools: s.registry.list() }),
    },
    { method: 'POST', path: /^\/v1\/agent\/tools\/call$/, role: 'agent', handle: (ctx) => call('agent', ctx) },
    {
      // The gateway's list_changed source: answers once a list differs from the versions it has
      // seen (a long poll, up to wait_ms), or at once without them.
      method: 'GET',
      path: /^\/v1\/agent\/lists\/version$/,
      role: 'agent',
      handle: async ({ res, query, signal }) => {
        const seen: Partial<Record<AgentList, string>> = {};
        for (const l of AGENT_LISTS) {
          const v = query.get(l);
          if (v !== null) seen[l] = v.slice(0, 64);
        }
        const wait = Math.min(Number(query.get('wait_ms') ?? 0) || 0, MAX_WAIT_MS);
        sendJson(res, 200, { versions: await s.lists.wait(seen, wait, signal) });
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^/v1/agent/approvals/${ID}$`),
      role: 'agent',
      handle: async ({ res, params, query, signal }) => {
        const id = params[0]!;
        let a = s.approvals.get(id);
        if (a?.requested_by !== 'agent') throw new BriefcaseError('not_found', `no approval ${id}`);
        const wait = Math.min(Number(query.get('wait_ms') ?? 0) || 0, MAX_WAIT_MS);
        if (wait > 0 && a.status === 'pending') {
          await s.approvals.waitForChange(id, wait, signal);
          a = s.approvals.get(id) ?? a;
        }
        sendJson(res, 200, { id: a.id, status: a.status, tool: a.tool, expires_at: a.expires_at });
      },
    },
    // Admin surface.
    {
      method: 'GET',
      path: /^\/v1\/admin\/status$/,
      role: 'admin',
      handle: ({ res }) =>
        sendJson(res, 200, {
          version: VERSION,
          pid: process.pid,
          // For `npm run bench` (issue 13): the daemon's resident memory and CPU time so far.
          rss: process.memoryUsage.rss(),
          cpu_us: process.cpuUsage(),
          api_connections: s.apiConnections.accepted,
          call_streams: s.apiConnections.callStreams,
          started_at: s.startedAt.toISOString(),
          uptime_s: Math.round((Date.now() - s.startedAt.getTime()) / 1000),
          home: s.paths.home,
          listeners: {
            socket: s.paths.socket,
            http: s.httpAddress ? `http://${s.httpAddress.host}:${s.httpAddress.port}` : null,
            console: s.console?.url ?? null,
          },
          tools: s.registry.list().length,
          receipts: { seq: s.receipts.seq, key_id: s.keys.receipts.keyId },
          policy_sha256: s.policy.hash,
          pending_approvals: s.approvals.list('pending').length,
          spend: s.ledger.totals(),
          key_source: s.keySource,
          device_id: s.keys.identity.keyId,
          keys: Object.values(s.keys).map((k) => ({
            role: k.role,
            algorithm: k.algorithm,
            backend: k.backend,
            non_exportable: k.nonExportable,
            key_id: k.keyId,
          })),
        }),
    },
    {
      method: 'GET',
      path: /^\/v1\/admin\/tools$/,
      role: 'admin',
      handle: ({ res }) => sendJson(res, 200, { tools: s.registry.list() }),
    },
    { method: 'POST', path: /^\/v1\/admin\/tools\/call$/, role: 'admin', handle: (ctx) => call('admin', ctx) },
    {
      method: 'GET',
      path: /^\/v1\/admin\/approvals$/,
      role: 'admin',
      handle: ({ res, query }) => {
        const status = z
          .enum(['pending', 'approved', 'rejected', 'expired', 'consumed'])
          .optional()
          .safeParse(query.get('status') ?? undefined);
        if (!status.success)
          throw new BriefcaseError('bad_request', 'status must be pending, approved, rejected, expired or consumed');
        sendJson(res, 200, { approvals: s.approvals.list(status.data).map(withAccess) });
      },
    },
    {
      method: 'GET',
      path: new RegExp(`^/v1/admin/approvals/${ID}$`),
      role: 'admin',
      handle: ({ res, params }) => sendJson(res, 200, withAccess(approvalOr404(params[0]!))),
    },
    {
      method: 'POST',
      path: new RegExp(`^/v1/admin/approvals/${ID}/approve$`),
      role: 'admin',
      handle: ({ res, params }) => sendJson(res, 200, decide(params[0]!, 'approved')),
    },
    {
      method: 'POST',
      path: new RegExp(`^/v1/admin/approvals/${ID}/reject$`),
      role: 'admin',
      handle: ({ res, params }) => sendJson(res, 200, decide(params[0]!, 'rejected')),
    },
    {
      method: 'GET',
      path: /^\/v1\/admin\/policy$/,
      role: 'admin',
      handle: ({ res }) => sendJson(res, 200, { text: s.policy.engine.text, hash: s.policy.hash }),
    },
    {
      method: 'POST',
      path: /^\/v1\/admin\/policy\/check$/,
      role: 'admin',
      handle: async ({ req, res }) =>
        sendJson(res, 200, checkPolicy((await readJson(req, limit, PolicyDocument)).text)),
    },
    {
      method: 'PUT',
      path: /^\/v1\/admin\/policy$/,
      role: 'admin',
      handle: async ({ req, res }) => {
        const { text } = await readJson(req, limit, PolicyDocument);
        const engine = PolicyEngine.load(text);
        if (!engine.ok) {
          sendJson(res, 400, {
            error: { code: 'invalid_policy', message: engine.error.join('\n') },
            errors: engine.error,
          });
          return;
        }
        await guarded(s, res, 'policy_apply', { text });
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/admin\/secrets$/,
      role: 'admin',
      handle: ({ res }) => sendJson(res, 200, { secrets: s.vault.list() }),
    },
    {
      method: 'PUT',
      path: new RegExp(`^/v1/admin/secrets/${NAME}$`),
      role: 'admin',
      handle: async ({ req, res, params }) => {
        const name = params[0]!;
        if (!Vault.validName(name))
          throw new BriefcaseError('bad_request', 'secret names use 1-64 characters of A-Z a-z 0-9 _ - .');
        const body = await readJson(req, limit, SecretPutRequest);
        const existed = s.vault.has(name);
        // The scrubber learns the value before anything could echo it.
        s.scrubber.setValues([...s.vault.allValues(), body.value]);
        const info = s.vault.set(name, new Secret(body.value), body.description);
        s.receipts.append('secret', 'admin', { event: existed ? 'updated' : 'created', name });
        s.logger.info('secret stored', { name });
        sendJson(res, 200, info);
      },
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/v1/admin/secrets/${NAME}$`),
      role: 'admin',
      handle: ({ res, params }) => {
        const name = params[0]!;
        if (!s.vault.remove(name)) throw new BriefcaseError('not_found', `no secret named ${name}`);
        s.receipts.append('secret', 'admin', { event: 'removed', name });
        s.logger.info('secret removed', { name });
        sendJson(res, 200, { ok: true, name });
      },
    },
    {
      method: 'GET',
      path: /^\/v1\/admin\/receipts\/export$/,
      role: 'admin',
      handle: async ({ res }) => {
        // The head signed at export time, so a verifier knows the log's head at `exported_at`.
        const head = await s.receipts.checkpoint({ force: true });
        // A statement signed now covers every checkpoint in the export (verify checks ts <= iat).
        await refreshDeviceStatement(s.paths, s.keys.identity, s.receipts);
        res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
        for (const line of s.receipts.exportLines(head)) {
          if (!res.write(`${line}\n`)) await new Promise((r) => res.once('drain', r));
        }
        res.end();
      },
    },
    {
      method: 'POST',
      path: /^\/v1\/admin\/receipts\/checkpoint$/,
      role: 'admin',
      handle: async ({ res }) => sendJson(res, 200, { checkpoint: await s.receipts.checkpoint() }),
    },
    {
      method: 'GET',
      path: /^\/v1\/admin\/remotes$/,
      role: 'admin',
      handle: ({ res }) => sendJson(res, 200, { servers: s.remotes.list() }),
    },
    {
      method: 'POST',
      path: /^\/v1\/admin\/remotes$/,
      role: 'admin',
      handle: async ({ req, res }) => guarded(s, res, 'remote_add', await readJson(req, limit, JsonObject)),
    },
    {
      method: 'DELETE',
      path: new RegExp(`^/v1/admin/remotes/${ID}$`),
      role: 'admin',
      handle: async ({ res, params }) => {
        await s.remotes.remove(params[0]!);
        sendJson(res, 200, { ok: true, name: params[0] });
      },
    },
    {
      method: 'POST',
      path: new RegExp(`^/v1/admin/remotes/${ID}/login$`),
      role: 'admin',
      handle: async ({ res, params }) => sendJson(res, 200, await s.remotes.login(params[0]!)),
    },
    {
      method: 'POST',
      path: new RegExp(`^/v1/admin/remotes/${ID}/logout$`),
      role: 'admin',
      handle: async ({ res, params }) => sendJson(res, 200, await s.remotes.logout(params[0]!)),
    },
    {
      method: 'POST',
      path: new RegExp(`^/v1/admin/remotes/${ID}/pin$`),
      role: 'admin',
      handle: ({ res, params }) => guarded(s, res, 'remote_pin', { name: params[0]! }),
    },
    {
      method: 'POST',
      path: /^\/v1\/admin\/keys\/rotate$/,
      role: 'admin',
      handle: async ({ req, res }) =>
        guarded(
          s,
          res,
          'key_rotate',
          await readJson(
            req,
            limit,
            z.object({ role: z.enum(KEY_ROLES), algorithm: z.enum(KEY_ALGORITHMS).optional() }).strict(),
          ),
        ),
    },
    {
      method: 'GET',
      path: /^\/v1\/admin\/receipts\/public-key$/,
      role: 'admin',
      handle: ({ res }) => sendJson(res, 200, { key_id: s.keys.receipts.keyId, jwk: s.keys.receipts.publicJwk }),
    },
  ];
}
