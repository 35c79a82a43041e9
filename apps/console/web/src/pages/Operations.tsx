import { useState } from 'react';
import { get, post } from '../api.ts';
import { useEvents } from '../events.ts';
import { DiffView, diffText } from '../DiffView.tsx';
import { confirmOperation } from '../passkey.ts';
import { prettyJson, visible, when } from '../safe.ts';
import type { OperationView } from '../types.ts';
import { ActionButton, ErrorNote, Facts, Loading, Page, Status, errorText, useLoad } from '../ui.tsx';

function Operation({ op, onDone }: { op: OperationView; onDone: (m: string) => void }) {
  const [error, setError] = useState<string | undefined>();
  const id = encodeURIComponent(op.id);
  return (
    <article className="card" aria-labelledby={`op-${op.id}`} data-operation-id={op.id}>
      <h2 id={`op-${op.id}`}>{visible(op.summary)}</h2>
      <Facts
        rows={[
          ['Kind', visible(op.kind)],
          ['Status', op.status],
          ['Started', when(op.created_at)],
          ['Expires', when(op.expires_at)],
          ...(op.error ? ([['Error', visible(op.error)]] as [string, string][]) : []),
        ]}
      />
      {'before' in op.details && 'after' in op.details ? (
        <>
          <h3>What changes</h3>
          <DiffView
            before={diffText(op.details.before)}
            after={diffText(op.details.after)}
            label={`Before and after of ${op.kind}`}
          />
          <details>
            <summary>The exact change as JSON</summary>
            <pre className="json">{prettyJson(op.details)}</pre>
          </details>
        </>
      ) : (
        <>
          <h3>The exact change</h3>
          <pre className="json" tabIndex={0} aria-label={`Details of ${op.kind}`}>
            {prettyJson(op.details)}
          </pre>
        </>
      )}
      {op.result ? (
        <>
          <h3>Result</h3>
          <pre className="json">{prettyJson(op.result)}</pre>
        </>
      ) : null}
      <ErrorNote error={error} />
      {op.status === 'pending' ? (
        <div className="actions">
          <ActionButton
            kind="primary"
            label="Confirm with passkey"
            busyLabel="Waiting for your passkey…"
            onAction={async () => {
              try {
                const r = await confirmOperation(op.id);
                onDone(`${r.operation.summary}: ${r.operation.status}`);
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
                await post(`/api/operations/${id}/reject`);
                onDone(`Rejected: ${op.summary}`);
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

export function Operations({ focus }: { focus?: string | undefined }) {
  const [message, setMessage] = useState<string | undefined>();
  const list = useLoad(() => get<{ operations: OperationView[] }>('/api/operations?status=pending'));
  const one = useLoad(
    () =>
      focus
        ? get<{ operation: OperationView }>(`/api/operations/${encodeURIComponent(focus)}`)
        : Promise.resolve(undefined),
    [focus],
  );
  const reload = () => {
    list.reload();
    if (focus) one.reload();
  };
  useEvents(['operation'], reload);
  const done = (m: string) => {
    setMessage(m);
    reload();
  };
  const focused = one.data?.operation;
  const pending = (list.data?.operations ?? []).filter((o) => o.id !== focused?.id);
  return (
    <Page
      title="Operations"
      intro="Changes that widen what an agent can do (a policy, a cap, a remote server, a pin, a connector, keys, passkeys) wait here until you confirm them with a passkey. The CLI links here."
    >
      <Status message={message} />
      <ErrorNote error={list.error ?? one.error} />
      {focused ? <Operation op={focused} onDone={done} /> : null}
      {!list.data ? (
        <Loading what="operations" />
      ) : pending.length === 0 && !focused ? (
        <p className="empty">No change is waiting for confirmation.</p>
      ) : (
        pending.map((o) => <Operation key={o.id} op={o} onDone={done} />)
      )}
    </Page>
  );
}
