import { useState, type FormEvent } from 'react';
import { get, post } from '../api.ts';
import { confirmOperation, register, startAndConfirm } from '../passkey.ts';
import { visible, when } from '../safe.ts';
import type { OperationView, PasskeyView } from '../types.ts';
import { ActionButton, ErrorNote, Loading, Page, Status, errorText, useLoad } from '../ui.tsx';

export function Passkeys() {
  const s = useLoad(() => get<{ passkeys: PasskeyView[] }>('/api/passkeys'));
  const [label, setLabel] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();

  // Adding a passkey widens who can approve: first confirm with a passkey you have, then (a
  // second press: browsers want a fresh gesture for each ceremony, and the person may need to
  // fetch the new key) register the new one inside that confirmed operation.
  const [opened, setOpened] = useState<{ id: string; label: string } | undefined>();
  const add = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const name = label.trim() || 'Another passkey';
      const { operation } = await post<{ operation: OperationView }>('/api/operations', {
        kind: 'passkey_add',
        params: { label: name },
      });
      await confirmOperation(operation.id);
      setOpened({ id: operation.id, label: name });
      setMessage('Confirmed. Now create the new passkey, on the device or key you want to add.');
    } catch (err) {
      setError(errorText(err));
      setMessage(undefined);
    } finally {
      setBusy(false);
    }
  };
  const create = async () => {
    if (!opened) return;
    setBusy(true);
    setError(undefined);
    try {
      await register(opened.label, opened.id);
      setMessage(`Added the passkey "${opened.label}".`);
      setOpened(undefined);
      setLabel('');
      s.reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page
      title="Passkeys"
      intro="The passkeys that can sign in here and approve calls. Adding or removing one needs a passkey."
    >
      <Status message={message} />
      <ErrorNote error={error ?? s.error} />
      {!s.data ? (
        <Loading what="passkeys" />
      ) : (
        <table>
          <caption>Enrolled passkeys</caption>
          <thead>
            <tr>
              <th scope="col">Label</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Credential id</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {s.data.passkeys.map((p) => (
              <tr key={p.credential_id}>
                <td>{visible(p.label)}</td>
                <td>{when(p.created_at)}</td>
                <td>{when(p.last_used_at)}</td>
                <td>
                  <code>{p.credential_id.slice(0, 16)}…</code>
                </td>
                <td>
                  <ActionButton
                    kind="danger"
                    label={`Remove ${p.label}`}
                    busyLabel="Waiting for your passkey…"
                    onAction={async () => {
                      try {
                        const op = await startAndConfirm('passkey_remove', { credential_id: p.credential_id });
                        setMessage(`${op.summary}: ${op.status}`);
                        s.reload();
                      } catch (err) {
                        setError(errorText(err));
                      }
                    }}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form onSubmit={add} className="card" aria-labelledby="add-h">
        <h2 id="add-h">Add another passkey</h2>
        <label>
          Label for the new passkey
          <input
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            maxLength={100}
            placeholder="Phone, YubiKey…"
          />
        </label>
        <div className="actions">
          <button type="submit" className="btn primary" disabled={busy || opened !== undefined}>
            {busy && !opened ? 'Waiting for your passkey…' : 'Add passkey'}
          </button>
          {opened ? (
            <button type="button" className="btn primary" disabled={busy} onClick={() => void create()}>
              {busy ? 'Waiting for the new passkey…' : `Create the new passkey "${opened.label}"`}
            </button>
          ) : null}
        </div>
      </form>
    </Page>
  );
}
