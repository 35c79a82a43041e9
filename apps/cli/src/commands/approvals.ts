import type { ApprovalView } from '@briefcase/protocol';
import { API_PATHS } from '@briefcase/protocol/api-paths';
import { argsSummary, describeApproval } from '../approval-view.ts';
import type { AdminClient } from '../client.ts';
import { clip, print, printJson, table } from '../output.ts';
import { oneLine } from '../safe-text.ts';

export async function approvalsList(c: AdminClient, json: boolean, all: boolean): Promise<void> {
  const q = all ? '' : '?status=pending';
  const { approvals } = await c.get<{ approvals: ApprovalView[] }>(`${API_PATHS.adminApprovals}${q}`);
  if (json) return printJson({ approvals });
  if (approvals.length === 0) return print(all ? 'No approvals.' : 'No pending approvals.');
  print(
    table([
      ['ID', 'STATUS', 'TOOL', 'BY', 'COST', 'EXPIRES', 'ARGS', 'WHY'],
      ...approvals.map((a) => [
        a.id,
        a.status,
        a.tool,
        a.requested_by,
        `${a.estimated_cost}`,
        a.expires_at,
        argsSummary(a.args),
        clip(a.reason, 40),
      ]),
    ]),
  );
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
      `${decision === 'approve' ? 'Approved' : 'Rejected'} ${oneLine(a.id)} (${oneLine(a.tool)}).${decision === 'approve' ? ' The identical call can now run once.' : ''}`,
    );
}
