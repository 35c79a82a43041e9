import { useState, type FormEvent } from 'react';
import { get, post } from '../api.ts';
import { startAndConfirm } from '../passkey.ts';
import { visible, when } from '../safe.ts';
import type { GrantView } from '../types.ts';
import { ActionButton, ErrorNote, Facts, Loading, Page, Status, errorText, useLoad } from '../ui.tsx';

function Grant({ g, onDone }: { g: GrantView; onDone: (m: string) => void }) {
  const [error, setError] = useState<string | undefined>();
  const head = `grant-${g.grant_id}`;
  return (
    <article className="card" aria-labelledby={head} data-grant-id={g.grant_id}>
      <h2 id={head}>
        {visible(g.purposes.join(', '))} <span className={`state ${g.state}`}>{g.state}</span>
      </h2>
      <Facts
        rows={[
          ['Grant', visible(g.grant_id)],
          ['Payees', visible(g.payees.join(', '))],
          ['Expires', when(g.expires_at)],
          ...(g.revoked_at ? ([['Revoked', when(g.revoked_at)]] as [string, string][]) : []),
        ]}
      />
      <table>
        <caption>Limits and spend (atomic units of each asset; assets never add up)</caption>
        <thead>
          <tr>
            <th scope="col">Rail</th>
            <th scope="col">Asset</th>
            <th scope="col">Total</th>
            <th scope="col">Spent</th>
            <th scope="col">Held</th>
            <th scope="col">Velocity</th>
          </tr>
        </thead>
        <tbody>
          {g.limits.map((l) => (
            <tr key={`${l.rail}:${l.network}:${l.asset}`}>
              <td>
                {visible(l.rail)} {visible(l.network)}
              </td>
              <td>{visible(l.asset)}</td>
              <td>{visible(l.total)}</td>
              <td data-spent={l.settled}>{visible(l.settled)}</td>
              <td>{visible(l.reserved)}</td>
              <td>
                {visible(l.velocity.amount)} and {l.velocity.count} payments per {l.velocity.window_seconds} s
                {l.approval_above ? `; approval above ${visible(l.approval_above)}` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ErrorNote error={error} />
      {g.state === 'active' ? (
        <div className="actions">
          <ActionButton
            kind="danger"
            label={`Revoke ${g.purposes.join(', ')}`}
            onAction={async () => {
              try {
                await post(`/api/grants/${encodeURIComponent(g.grant_id)}/revoke`);
                onDone(`Revoked the grant for ${g.purposes.join(', ')}.`);
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

/** The fields of a one-limit grant, as `briefcase grants create` takes them. */
function CreateGrant({ onDone }: { onDone: (m: string) => void }) {
  const [f, setF] = useState({
    rail: 'x402',
    network: 'eip155:8453',
    asset: '',
    total: '',
    payee: '',
    purpose: '',
    count: '100',
    window: '3600',
    days: '30',
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const field = (name: keyof typeof f, label: string, hint?: string) => (
    <label>
      {label}
      <input value={f[name]} onChange={(e) => setF({ ...f, [name]: e.target.value })} placeholder={hint} required />
    </label>
  );
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const grant = {
        limits: [
          {
            rail: f.rail.trim(),
            network: f.network.trim(),
            asset: f.asset.trim().toLowerCase(),
            total: f.total.trim(),
            velocity: { amount: f.total.trim(), count: Number(f.count), windowSeconds: Number(f.window) },
          },
        ],
        payees: f.payee
          .split(',')
          .map((p) => p.trim().toLowerCase())
          .filter(Boolean),
        purposes: [f.purpose.trim()],
        expiresAt: new Date(Date.now() + Number(f.days) * 86_400_000).toISOString(),
      };
      const op = await startAndConfirm('grant_create', { grant });
      if (op.status !== 'confirmed') throw new Error(op.error ?? `the grant was not created (${op.status})`);
      onDone(`Created a grant for ${f.purpose.trim()}.`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="card" aria-labelledby="create-h">
      <h2 id="create-h">Create a grant</h2>
      <p>Creating a grant lets an agent spend: it waits for your passkey.</p>
      {field('rail', 'Rail', 'x402 or l402')}
      {field('network', 'Network', 'eip155:8453, or bc for L402')}
      {field('asset', 'Asset', 'token contract 0x…, or btc')}
      {field('total', 'Total (atomic units)')}
      {field('payee', 'Payees (comma-separated)')}
      {field('purpose', 'Purpose (the tool name)')}
      {field('count', 'Payments per window')}
      {field('window', 'Window (seconds)')}
      {field('days', 'Valid for (days)')}
      <ErrorNote error={error} />
      <div className="actions">
        <button type="submit" className="btn primary" disabled={busy}>
          {busy ? 'Waiting for your passkey…' : 'Create grant'}
        </button>
      </div>
    </form>
  );
}

export function Grants() {
  const [message, setMessage] = useState<string | undefined>();
  const list = useLoad(() => get<{ wallet: string | null; grants: GrantView[] }>('/api/grants'));
  const done = (m: string) => {
    setMessage(m);
    list.reload();
  };
  return (
    <Page
      title="Grants"
      intro="Spending grants bound what agents may pay: per rail and asset a total, a velocity, payees and an expiry. Revoking takes effect at once."
    >
      <Status message={message} />
      <ErrorNote error={list.error} />
      {!list.data ? (
        <Loading what="grants" />
      ) : (
        <>
          <p>
            Payment wallet:{' '}
            {list.data.wallet ? visible(list.data.wallet) : 'none yet (briefcase keys create --role payment)'}
          </p>
          {list.data.grants.length === 0 ? <p className="empty">No spending grants.</p> : null}
          {list.data.grants.map((g) => (
            <Grant key={g.grant_id} g={g} onDone={done} />
          ))}
        </>
      )}
      <CreateGrant onDone={done} />
    </Page>
  );
}
