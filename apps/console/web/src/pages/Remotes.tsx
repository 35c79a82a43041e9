import { useState } from 'react';
import { get } from '../api.ts';
import { DiffView } from '../DiffView.tsx';
import { startAndConfirm } from '../passkey.ts';
import { visible } from '../safe.ts';
import type { AccessView, RemoteView } from '../types.ts';
import { ActionButton, ErrorNote, Loading, Page, Status, errorText, useLoad } from '../ui.tsx';

/** What a server (or a connector: no files, no environment) may reach: its access manifest, in words. */
export function AccessList({ access, connector = false }: { access: AccessView; connector?: boolean }) {
  if (access.isolation === 'none') {
    return <p className="warning">Runs without the sandbox: it has your user’s files and network.</p>;
  }
  const secrets = Object.entries(access.secrets);
  return (
    <dl className="facts">
      <dt>Files</dt>
      <dd>
        {connector
          ? 'none (a connector only makes its HTTP request)'
          : access.filesystem.length
            ? access.filesystem
                .map((f) => `${visible(f.path)} (${f.access === 'rw' ? 'read-write' : 'read-only'})`)
                .join(', ')
            : 'only its own directory'}
      </dd>
      <dt>Network</dt>
      <dd>
        {access.network.length ? access.network.map((h) => visible(h)).join(', ') : 'none'}
        {access.allow_private ? ' (private addresses allowed)' : ''}
      </dd>
      <dt>Environment and secrets</dt>
      <dd>
        {[
          ...access.env.map((e) => visible(e)),
          ...secrets.map(([v, n]) => `${visible(v)} ← secret ${visible(n)}`),
        ].join(', ') || 'none'}
      </dd>
    </dl>
  );
}

function Remote({ r, onMessage }: { r: RemoteView; onMessage: (m: string) => void }) {
  const [error, setError] = useState<string | undefined>();
  const changed = r.tools.filter((t) => t.state !== 'pinned');
  return (
    <section className="card" aria-labelledby={`remote-${r.name}`}>
      <h2 id={`remote-${r.name}`}>{visible(r.name)}</h2>
      <p>
        {visible(r.transport)} · <code>{visible(r.target)}</code> · {visible(r.status)}
      </p>
      {r.access ? <AccessList access={r.access} /> : null}
      <table>
        <caption>Tools of {visible(r.name)}</caption>
        <thead>
          <tr>
            <th scope="col">Tool</th>
            <th scope="col">Upstream name</th>
            <th scope="col">Pin</th>
          </tr>
        </thead>
        <tbody>
          {r.tools.map((t) => (
            <tr key={t.qualified}>
              <td>{visible(t.qualified)}</td>
              <td>{visible(t.original)}</td>
              <td className={t.state === 'pinned' ? '' : 'warning'}>{t.state}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {changed.map((t) =>
        t.before !== undefined || t.after !== undefined ? (
          <div key={t.qualified}>
            <h3>{visible(t.qualified)}: definition changed</h3>
            <DiffView
              before={t.before ?? ''}
              after={t.after ?? ''}
              label={`Changes to the definition of ${t.qualified}`}
            />
          </div>
        ) : null,
      )}
      <ErrorNote error={error} />
      {changed.length ? (
        <ActionButton
          kind="primary"
          label={`Pin ${r.name}'s tools with passkey`}
          busyLabel="Waiting for your passkey…"
          onAction={async () => {
            try {
              const op = await startAndConfirm('remote_pin', { name: r.name });
              onMessage(`${op.summary}: ${op.status}`);
            } catch (e) {
              setError(errorText(e));
            }
          }}
        />
      ) : null}
    </section>
  );
}

export function Remotes() {
  const [message, setMessage] = useState<string | undefined>();
  const s = useLoad(() => get<{ remotes: RemoteView[] }>('/api/remotes'));
  return (
    <Page
      title="Remote servers"
      intro="Remote MCP servers and their tools. A tool whose definition changed is blocked until you review the change and pin it again."
    >
      <Status message={message} />
      <ErrorNote error={s.error} />
      {!s.data ? (
        <Loading what="remote servers" />
      ) : s.data.remotes.length === 0 ? (
        <p className="empty">No remote servers. Add one with `briefcase remote add`.</p>
      ) : (
        s.data.remotes.map((r) => (
          <Remote
            key={r.name}
            r={r}
            onMessage={(m) => {
              setMessage(m);
              s.reload();
            }}
          />
        ))
      )}
    </Page>
  );
}
