import { useEffect, useRef, useState } from 'react';
import { loadSession, onSessionChange, post, type SessionInfo } from './api.ts';
import { useRoute } from './route.ts';
import { Approvals } from './pages/Approvals.tsx';
import { Enrol, Recovery } from './pages/Enrol.tsx';
import { Grants } from './pages/Grants.tsx';
import { Operations } from './pages/Operations.tsx';
import { Passkeys } from './pages/Passkeys.tsx';
import { Receipt, Receipts } from './pages/Receipts.tsx';
import { Remotes } from './pages/Remotes.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { Connectors, Doctor, Keys } from './pages/Simple.tsx';
import { Spend } from './pages/Spend.tsx';
import { ErrorNote, Page } from './ui.tsx';

const NAV: [string, string][] = [
  ['approvals', 'Approvals'],
  ['operations', 'Operations'],
  ['receipts', 'Receipts'],
  ['spend', 'Spend'],
  ['grants', 'Grants'],
  ['remotes', 'Remote servers'],
  ['connectors', 'Connectors'],
  ['keys', 'Keys'],
  ['passkeys', 'Passkeys'],
  ['doctor', 'Doctor'],
];

function SignedIn({ route }: { route: string[] }) {
  const [page, id] = route;
  switch (page ?? 'approvals') {
    case 'approvals':
      return <Approvals focus={id} />;
    case 'operations':
      return <Operations focus={id} />;
    case 'receipts':
      return id ? <Receipt id={id} /> : <Receipts />;
    case 'spend':
      return <Spend />;
    case 'grants':
      return <Grants />;
    case 'remotes':
      return <Remotes />;
    case 'connectors':
      return <Connectors />;
    case 'keys':
      return <Keys />;
    case 'passkeys':
      return <Passkeys />;
    case 'doctor':
      return <Doctor />;
    default:
      return (
        <Page title="Not found">
          <p>
            There is no such page. <a href="#/approvals">Go to approvals</a>.
          </p>
        </Page>
      );
  }
}

export function App() {
  const route = useRoute();
  const [session, setSession] = useState<SessionInfo | null | undefined>();
  const [error, setError] = useState<string | undefined>();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  useEffect(() => {
    const off = onSessionChange(setSession);
    loadSession().catch((e: unknown) => setError(String(e)));
    return () => {
      off();
    };
  }, []);

  // Keyboard and screen-reader users land on the new page's content after navigation.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [route.join('/')]);

  const page = route[0] ?? 'approvals';
  const signedIn = session?.state === 'signed_in';
  let content;
  if (page === 'enrol') content = <Enrol token={route[1]} />;
  else if (page === 'recovery') content = <Recovery />;
  else if (!session) content = error ? <ErrorNote error={error} /> : <p className="muted">Connecting to the daemon…</p>;
  else if (!signedIn) content = <SignIn session={session} />;
  else content = <SignedIn route={route} />;

  return (
    <>
      <a className="skip" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        Skip to content
      </a>
      <header className="top">
        <p className="brand">Briefcase console</p>
        {session ? (
          <p className="who">
            {session.device_id} · v{session.version}
          </p>
        ) : null}
        {signedIn ? (
          <button
            type="button"
            className="btn plain"
            onClick={() => {
              void post('/api/signout').finally(() => void loadSession());
            }}
          >
            Sign out
          </button>
        ) : null}
      </header>
      {signedIn ? (
        <nav aria-label="Console pages" className="nav">
          <ul>
            {NAV.map(([path, label]) => (
              <li key={path}>
                <a href={`#/${path}`} aria-current={page === path ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
      <main id="main" ref={main} tabIndex={-1}>
        {content}
      </main>
    </>
  );
}
