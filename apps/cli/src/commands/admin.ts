import { readFileSync } from 'node:fs';
import {
  API_PATHS,
  BriefcaseError,
  type ApprovalView,
  type ToolCallResponse,
  type ToolDescriptor,
} from '@briefcase/protocol';
import { compilePolicy } from '@briefcase/policy';
import type { AdminClient } from '../client.ts';
import { print, printJson, table } from '../output.ts';

export async function toolsList(c: AdminClient, json: boolean): Promise<void> {
  const { tools } = await c.get<{ tools: ToolDescriptor[] }>(API_PATHS.adminTools);
  if (json) return printJson({ tools });
  print(
    table([
      ['NAME', 'CATEGORY', 'ORIGIN', 'DESCRIPTION'],
      ...tools.map((t) => [t.name, t.category, t.origin, t.description.slice(0, 70)]),
    ]),
  );
}

/** Returns the exit code: 0 when the call succeeded. */
export async function toolsCall(c: AdminClient, name: string, argsJson: string, json: boolean): Promise<number> {
  let args: unknown;
  try {
    args = JSON.parse(argsJson);
  } catch (e) {
    throw new BriefcaseError('bad_request', `--args is not valid JSON: ${(e as Error).message}`);
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw new BriefcaseError('bad_request', '--args must be a JSON object, e.g. --args \'{"text":"hi"}\'');
  }
  const response = await c.post<ToolCallResponse>(API_PATHS.adminCall, { tool: name, args });
  if (json) printJson(response);
  else if (response.ok) {
    for (const block of response.result.content) print(block.type === 'text' ? block.text : `[${block.type}]`);
    print(`(receipt ${response.receipt_id})`);
  } else print(`${response.error.code}: ${response.error.message}`);
  return response.ok && !response.result.isError ? 0 : 1;
}

export async function approvalsList(c: AdminClient, json: boolean, all: boolean): Promise<void> {
  const q = all ? '' : '?status=pending';
  const { approvals } = await c.get<{ approvals: ApprovalView[] }>(`${API_PATHS.adminApprovals}${q}`);
  if (json) return printJson({ approvals });
  if (approvals.length === 0) return print(all ? 'No approvals.' : 'No pending approvals.');
  print(
    table([
      ['ID', 'STATUS', 'TOOL', 'BY', 'COST', 'EXPIRES', 'WHY'],
      ...approvals.map((a) => [
        a.id,
        a.status,
        a.tool,
        a.requested_by,
        `${a.estimated_cost}`,
        a.expires_at,
        a.reason.slice(0, 60),
      ]),
    ]),
  );
}

export function describeApproval(a: ApprovalView): string {
  return [
    `approval ${a.id} (${a.status}, tier ${a.tier})`,
    `  tool       ${a.tool} (${a.category}, ${a.origin}), requested by ${a.requested_by}`,
    `  arguments  ${JSON.stringify(a.args)}`,
    `  reads      ${a.reads ?? '-'}`,
    `  changes    ${a.changes ?? '-'}`,
    `  cost       ${a.estimated_cost} ${a.currency} minor units (estimated)`,
    `  why        ${a.reason}`,
    `  expires    ${a.expires_at}`,
    `  call hash  ${a.call_hash}`,
  ].join('\n');
}

export async function approvalsShow(c: AdminClient, id: string, json: boolean): Promise<void> {
  const a = await c.get<ApprovalView>(`${API_PATHS.adminApprovals}/${encodeURIComponent(id)}`);
  if (json) printJson(a);
  else print(describeApproval(a));
}

export async function approvalsDecide(
  c: AdminClient,
  id: string,
  decision: 'approve' | 'reject',
  json: boolean,
): Promise<void> {
  const a = await c.post<ApprovalView>(`${API_PATHS.adminApprovals}/${encodeURIComponent(id)}/${decision}`);
  if (json) printJson(a);
  else
    print(
      `${decision === 'approve' ? 'Approved' : 'Rejected'} ${a.id} (${a.tool}).${decision === 'approve' ? ' The identical call can now run once.' : ''}`,
    );
}

export async function policyShow(c: AdminClient, json: boolean): Promise<void> {
  const p = await c.get<{ text: string; hash: string }>(API_PATHS.adminPolicy);
  if (json) printJson(p);
  else process.stdout.write(p.text);
}

/** Local check against the schema: needs no daemon. Returns the exit code. */
export function policyCheck(file: string, json: boolean): number {
  const text = readFileSync(file, 'utf8');
  const compiled = compilePolicy(text);
  const result = compiled.ok
    ? { ok: true, errors: [], warnings: compiled.value.warnings }
    : { ok: false, errors: compiled.error, warnings: [] };
  if (json) printJson({ file, ...result });
  else if (result.ok) {
    print(`${file}: valid (${compiled.ok ? compiled.value.ids.length : 0} policies)`);
    for (const w of result.warnings) print(`  warning: ${w}`);
  } else for (const e of result.errors) print(`${file}: ${e}`);
  return result.ok ? 0 : 1;
}

export async function policyApply(c: AdminClient, file: string, json: boolean): Promise<number> {
  if (policyCheck(file, false) !== 0) return 1;
  const text = readFileSync(file, 'utf8');
  const r = await c.put<{ hash: string; old_hash: string }>(API_PATHS.adminPolicy, { text });
  if (json) printJson(r);
  else print(`Applied ${file}: policy ${r.old_hash.slice(0, 12)} → ${r.hash.slice(0, 12)} (receipted)`);
  return 0;
}
