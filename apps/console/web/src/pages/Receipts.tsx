import { useState, type FormEvent } from 'react';
import { get, post, qs } from '../api.ts';
import { go } from '../route.ts';
import { prettyJson, visible, when } from '../safe.ts';
import type { ReceiptSummary, VerifyView } from '../types.ts';
import { ActionButton, ErrorNote, Loading, Page, errorText, useLoad } from '../ui.tsx';

const PAGE = 25;

function VerifyResult({ v }: { v: VerifyView }) {
  return (
    <section className={`card verify ${v.ok ? 'ok' : 'bad'}`} aria-labelledby="verify-h">
      <h2 id="verify-h">{v.ok ? 'The receipt log verifies' : 'The receipt log does NOT verify'}</h2>
      <p>
        {v.records} records, {v.checkpoints} signed checkpoints, {v.assertions} passkey assertions checked against the
        enrolled passkeys.
      </p>
      {v.problems.length ? (
        <ul>
          {v.problems.map((p, i) => (
            <li key={i}>{visible(p)}</li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

export function Receipts() {
  const [filter, setFilter] = useState({ kind: '', tool: '', outcome: '' });
  const [draft, setDraft] = useState(filter);
  const [pages, setPages] = useState<(number | undefined)[]>([undefined]);
  const before = pages[pages.length - 1];
  const list = useLoad(
    () => get<{ receipts: ReceiptSummary[] }>(`/api/receipts${qs({ ...filter, before, limit: PAGE })}`),
    [filter.kind, filter.tool, filter.outcome, before],
  );
  const [verify, setVerify] = useState<VerifyView | undefined>();
  const [error, setError] = useState<string | undefined>();
  const rows = list.data?.receipts ?? [];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setFilter(draft);
    setPages([undefined]);
  };
  return (
    <Page
      title="Receipts"
      intro="Every call, approval and change the daemon recorded, newest first, in a hash-chained log."
    >
      <div className="actions">
        <ActionButton
          label="Verify the log"
          busyLabel="Verifying…"
          onAction={async () => {
            try {
              setVerify((await post<{ verify: VerifyView }>('/api/receipts/verify')).verify);
              setError(undefined);
            } catch (e) {
              setError(errorText(e));
            }
          }}
        />
      </div>
      <ErrorNote error={error ?? list.error} />
      {verify ? <VerifyResult v={verify} /> : null}
      <form className="filters" onSubmit={submit} aria-label="Filter receipts">
        {(['kind', 'tool', 'outcome'] as const).map((k) => (
          <label key={k}>
            {k[0]!.toUpperCase() + k.slice(1)}
            <input
              name={k}
              value={draft[k]}
              onChange={(e) => setDraft({ ...draft, [k]: e.target.value })}
              placeholder={k === 'kind' ? 'tool_call, approval…' : k === 'outcome' ? 'ok, denied…' : 'server.tool'}
            />
          </label>
        ))}
        <button type="submit" className="btn plain">
          Apply filters
        </button>
      </form>
      {!list.data ? (
        <Loading what="receipts" />
      ) : rows.length === 0 ? (
        <p className="empty">No receipts match.</p>
      ) : (
        <table>
          <caption>Receipts {before !== undefined ? `before #${before}` : '(newest)'}</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time</th>
              <th scope="col">Kind</th>
              <th scope="col">Actor</th>
              <th scope="col">Tool / event</th>
              <th scope="col">Outcome</th>
              <th scope="col">Passkey</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td>
                  <a href={`#/receipts/${encodeURIComponent(r.id)}`}>#{r.seq}</a>
                </td>
                <td>{when(r.ts)}</td>
                <td>{visible(r.kind)}</td>
                <td>{visible(r.actor)}</td>
                <td>{visible([r.tool, r.event].filter(Boolean).join(' · ') || '—')}</td>
                <td>{visible(r.outcome ?? '—')}</td>
                <td>{r.presence ? 'yes' : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav className="pager" aria-label="Receipt pages">
        <button type="button" className="btn plain" disabled={pages.length <= 1} onClick={() => setPages([undefined])}>
          Newest
        </button>
        <button
          type="button"
          className="btn plain"
          disabled={rows.length < PAGE}
          onClick={() => setPages([...pages, rows[rows.length - 1]!.seq])}
        >
          Older
        </button>
      </nav>
    </Page>
  );
}

export function Receipt({ id }: { id: string }) {
  const r = useLoad(() => get<{ receipt: Record<string, unknown> }>(`/api/receipts/${encodeURIComponent(id)}`), [id]);
  return (
    <Page title={`Receipt ${visible(id)}`}>
      <p>
        <a href="#/receipts" onClick={() => go('receipts')}>
          Back to receipts
        </a>
      </p>
      <ErrorNote error={r.error} />
      {r.data ? (
        <pre className="json" tabIndex={0} aria-label="Receipt record as JSON">
          {prettyJson(r.data.receipt)}
        </pre>
      ) : (
        <Loading what="the receipt" />
      )}
    </Page>
  );
}
