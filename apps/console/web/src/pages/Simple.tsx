import { get } from '../api.ts';
import { visible } from '../safe.ts';
import type { ConnectorView, DoctorCheck, KeyView } from '../types.ts';
import { ErrorNote, Loading, Page, useLoad } from '../ui.tsx';
import { AccessList } from './Remotes.tsx';

export function Connectors() {
  const s = useLoad(() => get<{ connectors: ConnectorView[] }>('/api/connectors'));
  return (
    <Page
      title="Connectors"
      intro="Declarative HTTP connectors, each with its state, the tools it provides and what it may reach. Adding one needs a passkey; a file that is invalid or was not approved is disabled (only it)."
    >
      <ErrorNote error={s.error} />
      {!s.data ? (
        <Loading what="connectors" />
      ) : s.data.connectors.length === 0 ? (
        <p className="empty">No connectors.</p>
      ) : (
        <table>
          <caption>Connectors</caption>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">State</th>
              <th scope="col">Tools</th>
              <th scope="col">May reach</th>
            </tr>
          </thead>
          <tbody>
            {s.data.connectors.map((c) => (
              <tr key={c.file}>
                <td>
                  <code>{visible(c.file)}</code>
                </td>
                <td>{c.state === 'ok' ? 'ok' : `disabled: ${visible(c.reason ?? '')}`}</td>
                <td>{c.tools.map((t) => visible(t)).join(', ')}</td>
                <td>{c.access ? <AccessList access={c.access} connector /> : 'nothing'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}

export function Keys() {
  const s = useLoad(() => get<{ keys: KeyView[] }>('/api/keys'));
  return (
    <Page
      title="Keys"
      intro="The daemon's keys, by job. Only public facts are shown; private keys never leave their backend."
    >
      <ErrorNote error={s.error} />
      {!s.data ? (
        <Loading what="keys" />
      ) : s.data.keys.length === 0 ? (
        <p className="empty">No keys.</p>
      ) : (
        <table>
          <caption>Keys</caption>
          <thead>
            <tr>
              <th scope="col">Role</th>
              <th scope="col">Algorithm</th>
              <th scope="col">Backend</th>
              <th scope="col">Non-exportable</th>
              <th scope="col">Key id</th>
            </tr>
          </thead>
          <tbody>
            {s.data.keys.map((k) => (
              <tr key={`${k.role}-${k.key_id}`}>
                <td>{visible(k.role)}</td>
                <td>{visible(k.algorithm)}</td>
                <td>{visible(k.backend)}</td>
                <td>{k.non_exportable ? 'yes' : 'no (software key)'}</td>
                <td>
                  <code>{visible(k.key_id)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}

export function Doctor() {
  const s = useLoad(() => get<{ checks: DoctorCheck[] }>('/api/doctor'));
  return (
    <Page title="Doctor" intro="The daemon's own health checks, as `briefcase doctor` prints them.">
      <ErrorNote error={s.error} />
      {!s.data ? (
        <Loading what="checks" />
      ) : (
        <ul className="checks">
          {s.data.checks.map((c) => (
            <li key={c.name} className={c.ok ? 'ok' : 'bad'}>
              <strong>{c.ok ? 'OK' : 'Problem'}</strong> {visible(c.name)}: {visible(c.detail)}
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}
