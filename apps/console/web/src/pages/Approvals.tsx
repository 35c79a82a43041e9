import { useState } from 'react';
import { get, post } from '../api.ts';
import { useEvents } from '../events.ts';
import { assert } from '../passkey.ts';
import { countHidden, prettyJson, visible, when } from '../safe.ts';
import type { ApprovalView } from '../types.ts';
import { ActionButton, ErrorNote, Facts, Loading, Page, Status, errorText, useLoad } from '../ui.tsx';

export function money(amount: number, currency: string): string {
  return `${amount} ${currency} (minor units)`;
}

function ApprovalCard({ a, onDone }: { a: ApprovalView; onDone: (msg: string) => void }) {
  const [error, setError] = useState<string | undefined>();
  const id = encodeURIComponent(a.id);
  const args = prettyJson(a.args);
  const hidden = countHidden(JSON.stringify(a.args));
  const headingId = `approval-${a.id}`;
  return (
    <article className="card approval" aria-labelledby={headingId} data-approval-id={a.id}>
      <h2 id={headingId}>
        <span className="tool">{visible(a.tool)}</span> <span className={`badge tier-${a.tier}`}>{a.tier} tier</span>
        {a.status !== 'pending' ? <span className="badge"> {a.status}</span> : null}
      </h2>
      <Facts
        rows={[
          ['Origin server', visible(a.origin)],
          ['Category', visible(a.category)],
          ['Why approval is needed', visible(a.reason)],
          ['What it reads', visible(a.reads ?? 'nothing declared')],
          ['What it changes', visible(a.changes ?? 'nothing declared')],
          ['Estimated cost', money(a.estimated_cost, a.currency)],
          ['Budget it draws on', a.budget ? visible(a.budget) : 'not stated by the daemon'],
          ...(a.access ? [['What it may reach', visible(a.access)] as [string, string]] : []),
          ['Requested by', a.requested_by],
          ['Created', when(a.created_at)],
          ['Expires', when(a.expires_at)],
          ['Call hash', <code key="h">{a.call_hash}</code>],
        ]}
      />
      <h3>Arguments</h3>
      {hidden > 0 ? (
        <p className="warning">
          The arguments contain {hidden} invisible or control character{hidden === 1 ? '' : 's'}, shown as \u escapes.
        </p>
      ) : null}
      <pre className="json" tabIndex={0} aria-label={`Arguments of ${a.tool}`}>
        {args}
      </pre>
      <ErrorNote error={error} />
      {a.status === 'pending' ? (
        <div className="actions">
          <ActionButton
            kind="primary"
            label="Approve with passkey"
            busyLabel="Waiting for your passkey…"
            onAction={async () => {
              try {
                await assert(`/api/approvals/${id}/options`, `/api/approvals/${id}/approve`);
                onDone(`Approved ${a.tool}. The agent's call proceeds.`);
              } catch (e) {
                setError(errorText(e));
              }
            }}
          />
          <ActionButton
            kind="danger"
            label="Reject"
            onAction={async () => {
              try {
                await post(`/api/approvals/${id}/reject`);
                onDone(`Rejected ${a.tool}.`);
              } catch (e) {
                setError(errorText(e));
              }
            }}
          />
        </div>
      ) : null}
    </article>
  );
}

export function Approvals({ focus }: { focus?: string | undefined }) {
  const [message, setMessage] = useState<string | undefined>();
  const list = useLoad(() => get<{ approvals: ApprovalView[] }>('/api/approvals?status=pending'));
  const one = useLoad(
    () =>
      focus
        ? get<{ approval: ApprovalView }>(`/api/approvals/${encodeURIComponent(focus)}`)
        : Promise.resolve(undefined),
    [focus],
  );
  useEvents(['approval'], () => {
    list.reload();
    if (focus) one.reload();
  });
  const done = (msg: string) => {
    setMessage(msg);
    list.reload();
    if (focus) one.reload();
  };
  const pending = list.data?.approvals ?? [];
  const focused = one.data?.approval;
  return (
    <Page
      title="Approvals"
      intro="Calls your agent made that wait for you. Read what each one does before you approve it: approving with your passkey lets exactly this call run once."
    >
      <Status message={message} />
      <ErrorNote error={list.error ?? one.error} />
      {focused && focused.status !== 'pending' ? <ApprovalCard a={focused} onDone={done} /> : null}
      {!list.data ? (
        <Loading what="approvals" />
      ) : pending.length === 0 ? (
        <p className="empty">Nothing is waiting for you. New approvals appear here as soon as the agent asks.</p>
      ) : (
        <section aria-label="Pending approvals">
          {pending.map((a) => (
            <ApprovalCard key={a.id} a={a} onDone={done} />
          ))}
        </section>
      )}
    </Page>
  );
}
