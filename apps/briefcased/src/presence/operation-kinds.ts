import { isDeepStrictEqual } from 'node:util';
import { KEY_ALGORITHMS, KEY_ROLES, type KeyAlgorithm, type KeyRole } from '@briefcase/keys';
import { AccessManifest, BriefcaseError } from '@briefcase/protocol';
import { accessWidens } from '../admin/access.ts';
import { effectiveAccess, inferAccess } from '../remote/infer-access.ts';
import { z } from 'zod';
import { currentCap, parseCap, writeCap } from '../admin/budget-caps.ts';
import { addCodeTool, checkCodeTool } from '../admin/code-tools.ts';
import { addCommandTool, checkCommandDefinition } from '../admin/command-tools.ts';
import { addConnector, checkConnector, connectorFile } from '../admin/connectors.ts';
import { applyPolicy, loadPolicy } from '../admin/policy.ts';
import type { Services } from '../daemon.ts';
import { rotateKey } from '../keys/rotate.ts';
import { createGrant, parseGrantRequest } from '../payments/admin.ts';

/** What a guarded change is, for the person who confirms it, and how it runs once confirmed. */
export interface OperationKind {
  /** Validate and normalise the parameters; say what the change is. Throws bad_request. */
  prepare(
    s: Services,
    params: Record<string, unknown>,
  ): { params: Record<string, unknown>; summary: string; details: Record<string, unknown> };
  run(s: Services, params: Record<string, unknown>, operationId: string): Promise<Record<string, unknown>>;
}

const str = (v: unknown, name: string): string => {
  if (typeof v !== 'string' || v.length === 0) throw new BriefcaseError('bad_request', `${name} is required`);
  return v;
};

export const OPERATION_KINDS: Record<string, OperationKind> = {
  grant_create: {
    prepare(_s, p) {
      const request = parseGrantRequest(p.grant);
      const limits = request.limits.map((l) => `${l.total} of ${l.asset} on ${l.network}`).join(', ');
      return {
        params: { grant: request },
        summary: `create a spending grant: up to ${limits}, to ${request.payees.length} payee(s), until ${request.expiresAt}`,
        details: { after: request },
      };
    },
    run: async (s, p) => createGrant(s, parseGrantRequest(p.grant)),
  },
  policy_apply: {
    prepare(s, p) {
      const text = str(p.text, 'text');
      const engine = loadPolicy(text);
      return {
        params: { text },
        summary: 'apply a new policy',
        details: { before: s.policy.engine.text, after: text, warnings: engine.warnings },
      };
    },
    run: async (s, p, id) => applyPolicy(s, p.text as string, id ? { operation_id: id } : {}),
  },
  budget_cap_set: {
    prepare(s, p) {
      const cap = parseCap(p.cap);
      return {
        params: { cap },
        summary: `set budget cap ${cap.id} to ${cap.limit} per ${cap.window} (${cap.on_exceed} above it)`,
        details: { before: currentCap(s, cap.id) ?? null, after: cap },
      };
    },
    run: async (s, p) => writeCap(s, (p.cap as { id: string }).id, parseCap(p.cap)),
  },
  budget_cap_remove: {
    prepare(s, p) {
      const id = str(p.id, 'id');
      const before = currentCap(s, id);
      if (!before) throw new BriefcaseError('not_found', `no budget cap ${id}`);
      return { params: { id }, summary: `remove budget cap ${id}`, details: { before, after: null } };
    },
    run: async (s, p) => writeCap(s, p.id as string, undefined),
  },
  remote_add: {
    prepare(_s, p) {
      const name = str(p.name, 'name');
      // The person confirms the manifest the server will run under, inferred here if not given.
      const params =
        p.transport === 'stdio' && p.access === undefined && typeof p.command === 'string'
          ? { ...p, access: inferAccess(p.command, Array.isArray(p.args) ? p.args.map(String) : []).access }
          : p;
      return { params, summary: `add the remote MCP server ${name}`, details: { config: params } };
    },
    async run(s, p) {
      const summary = await s.remotes.add(p);
      // Say what was granted when it is the launcher's inferred manifest.
      if (p.transport !== 'stdio' || typeof p.command !== 'string') return { ...summary };
      const inferred = inferAccess(p.command, Array.isArray(p.args) ? p.args.map(String) : []);
      return isDeepStrictEqual(inferred.access, p.access)
        ? { ...summary, access_notes: inferred.notes }
        : { ...summary };
    },
  },
  remote_access_set: {
    prepare(s, p) {
      const name = str(p.name, 'name');
      const parsed = AccessManifest.safeParse(p.access);
      if (!parsed.success) {
        const i = parsed.error.issues[0];
        throw new BriefcaseError('bad_request', `access.${i?.path.join('.') ?? ''}: ${i?.message ?? 'invalid'}`);
      }
      const before = effectiveAccess(s.remotes.config(name));
      return {
        params: { name, access: parsed.data },
        summary: `change what ${name} may reach: ${accessWidens(before, parsed.data).join('; ') || 'nothing wider'}`,
        details: { before, after: parsed.data },
      };
    },
    run: async (s, p) => ({ ...(await s.remotes.setAccess(p.name as string, p.access as AccessManifest)) }),
  },
  remote_pin: {
    prepare(s, p) {
      const name = str(p.name, 'name');
      const summary = s.remotes.summary(name);
      return { params: { name }, summary: `accept the current tools of ${name}`, details: { server: summary } };
    },
    run: async (s, p) => ({ ...s.remotes.pin(p.name as string) }),
  },
  connector_add: {
    prepare(_s, p) {
      const file = connectorFile(str(p.file, 'file'));
      const tools = checkConnector(file, p.manifest);
      return {
        params: { file, manifest: p.manifest },
        summary: `add the connector ${file} (${tools.join(', ')})`,
        details: { manifest: p.manifest },
      };
    },
    run: async (s, p) => addConnector(s, p.file as string, p.manifest),
  },
  code_tool_add: {
    prepare(_s, p) {
      const m = checkCodeTool(p.manifest, p.code_base64);
      return {
        params: { manifest: p.manifest, code_base64: p.code_base64 },
        summary: `add the ${m.runtime} code tool ${m.name}`,
        details: { manifest: p.manifest, code_bytes: Buffer.from(p.code_base64 as string, 'base64').length },
      };
    },
    run: async (s, p) => addCodeTool(s, p.manifest, p.code_base64),
  },
  command_tool_add: {
    prepare(_s, p) {
      const m = checkCommandDefinition(p.definition);
      return {
        params: { definition: p.definition },
        summary: `add the command tool ${m.name} (runs ${m.argv[0]})`,
        details: { definition: p.definition, access: m.access },
      };
    },
    run: async (s, p) => addCommandTool(s, p.definition),
  },
  key_rotate: {
    prepare(_s, p) {
      const parsed = z
        .object({ role: z.enum(KEY_ROLES), algorithm: z.enum(KEY_ALGORITHMS).optional() })
        .strict()
        .safeParse(p);
      if (!parsed.success) throw new BriefcaseError('bad_request', 'role must be one of ' + KEY_ROLES.join(', '));
      return {
        params: parsed.data,
        summary: `rotate the ${parsed.data.role} key`,
        details: { ...parsed.data },
      };
    },
    run: async (s, p) => ({
      ...(await rotateKey(s, p.role as KeyRole, p.algorithm as KeyAlgorithm | undefined)),
    }),
  },
  passkey_add: {
    prepare(_s, p) {
      const label = typeof p.label === 'string' && p.label.trim() ? p.label.trim().slice(0, 64) : 'passkey';
      return { params: { label }, summary: `enrol another passkey ("${label}")`, details: { label } };
    },
    async run(s, _p, id) {
      s.presence.grantRegistration({ operation: id });
      return { registration: 'open', operation_id: id };
    },
  },
  passkey_remove: {
    prepare(s, p) {
      const id = str(p.credential_id, 'credential_id');
      const passkey = s.presence.passkeys.get(id);
      if (!passkey) throw new BriefcaseError('not_found', `no passkey ${id}`);
      if (s.presence.passkeys.count() === 1) {
        throw new BriefcaseError('conflict', 'this is the only passkey: enrol another before removing it');
      }
      return {
        params: { credential_id: id },
        summary: `remove the passkey "${passkey.label}"`,
        details: { label: passkey.label },
      };
    },
    async run(s, p) {
      const id = p.credential_id as string;
      if (s.presence.passkeys.count() <= 1) throw new BriefcaseError('conflict', 'this is the only passkey left');
      if (!s.presence.passkeys.remove(id, new Date().toISOString()))
        throw new BriefcaseError('not_found', `no passkey ${id}`);
      s.receipts.append('passkey', 'admin', { event: 'removed', credential_id: id });
      return { removed: id };
    },
  },
};
