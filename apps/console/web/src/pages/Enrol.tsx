import { useEffect, useRef, useState, type FormEvent } from 'react';
import { adoptSession, post, type SessionInfo } from '../api.ts';
import { register } from '../passkey.ts';
import { go } from '../route.ts';
import { visible } from '../safe.ts';
import { ErrorNote, Page, Status, errorText } from '../ui.tsx';

interface Registered {
  recovery_codes: string[] | null;
  policy_note: string | null;
  session?: SessionInfo;
}

/** After the passkey exists: the recovery codes, once, and what changed in the policy. */
function Done({ r }: { r: Registered }) {
  return (
    <section className="card" aria-labelledby="done-h">
      <h2 id="done-h">Your passkey is enrolled</h2>
      {r.policy_note ? <p className="note">{visible(r.policy_note)}</p> : null}
      {r.recovery_codes?.length ? (
        <>
          <h3>Recovery codes</h3>
          <p>
            Write these down and keep them away from this computer. Each one works once, if you lose every passkey. They
            are shown only now; the daemon keeps only their hashes.
          </p>
          <ol className="codes">
            {r.recovery_codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ol>
        </>
      ) : null}
      <button type="button" className="btn primary" onClick={() => go('approvals')}>
        I have saved them: go to approvals
      </button>
    </section>
  );
}

function CreatePasskey({ onDone, intro }: { onDone: (r: Registered) => void; intro: string }) {
  const [label, setLabel] = useState('This computer');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const r = await register<Registered>(label.trim() || 'Passkey');
      if (r.session) adoptSession(r.session);
      onDone(r);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="card" aria-labelledby="create-h">
      <h2 id="create-h">Create your passkey</h2>
      <p>{intro}</p>
      <label>
        A name for this passkey
        <input value={label} onChange={(e) => setLabel(e.target.value)} maxLength={100} required />
      </label>
      <ErrorNote error={error} />
      <button type="submit" className="btn primary" disabled={busy}>
        {busy ? 'Waiting for your passkey…' : 'Create passkey'}
      </button>
    </form>
  );
}

export function Enrol({ token }: { token: string | undefined }) {
  const [state, setState] = useState<'redeeming' | 'ready' | 'failed'>(token ? 'redeeming' : 'failed');
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState<Registered | undefined>();
  const started = useRef(false);
  useEffect(() => {
    if (!token || started.current) return;
    started.current = true;
    // The token is single-use; drop it from the address bar and history once it is spent.
    history.replaceState(null, '', '#/enrol');
    post<SessionInfo>('/api/session/link', { token }).then(
      (s) => {
        adoptSession(s);
        setState('ready');
      },
      (e: unknown) => {
        setError(errorText(e));
        setState('failed');
      },
    );
  }, [token]);
  return (
    <Page title="Enrol your first passkey">
      {done ? (
        <Done r={done} />
      ) : state === 'redeeming' ? (
        <Status message="Checking the enrolment link…" />
      ) : state === 'ready' ? (
        <CreatePasskey
          onDone={setDone}
          intro="Your passkey (Touch ID, Windows Hello, a security key or your phone) is what approves your agent's calls from now on. An agent running as you cannot use it."
        />
      ) : (
        <>
          <ErrorNote error={error ?? 'This page needs the enrolment link that `briefcase console` prints.'} />
          <p>Run `briefcase console` in a terminal and open the link it prints. Links work once, for a few minutes.</p>
        </>
      )}
    </Page>
  );
}

export function Recovery() {
  const [code, setCode] = useState('');
  const [ready, setReady] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState<Registered | undefined>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      adoptSession(await post<SessionInfo>('/api/recovery', { code: code.trim() }));
      setCode('');
      setReady(true);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <Page title="Recover access">
      {done ? (
        <Done r={done} />
      ) : ready ? (
        <CreatePasskey
          onDone={setDone}
          intro="The recovery code was accepted and is now used up. Create a new passkey."
        />
      ) : (
        <form onSubmit={submit} className="card" aria-labelledby="rec-h">
          <h2 id="rec-h">Use a recovery code</h2>
          <p>If you lost every passkey, one of the recovery codes shown at enrolment lets you create a new one.</p>
          <label>
            Recovery code
            <input value={code} onChange={(e) => setCode(e.target.value)} autoComplete="off" required />
          </label>
          <ErrorNote error={error} />
          <button type="submit" className="btn primary">
            Continue
          </button>
        </form>
      )}
    </Page>
  );
}
