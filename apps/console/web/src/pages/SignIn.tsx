import { useState } from 'react';
import { adoptSession, type SessionInfo } from '../api.ts';
import { assert } from '../passkey.ts';
import { ActionButton, ErrorNote, Page } from '../ui.tsx';
import { errorText } from '../ui.tsx';

export function SignIn({ session }: { session: SessionInfo }) {
  const [error, setError] = useState<string | undefined>();
  if (session.passkeys === 0) {
    return (
      <Page title="Set up the console">
        <p>
          No passkey is enrolled yet. Run <code>briefcase console</code> in a terminal and open the one-time enrolment
          link it prints.
        </p>
      </Page>
    );
  }
  return (
    <Page
      title="Sign in"
      intro="Sign in with one of your passkeys. Sessions end after 15 idle minutes and after one hour."
    >
      <ErrorNote error={error} />
      <ActionButton
        kind="primary"
        label="Sign in with passkey"
        busyLabel="Waiting for your passkey…"
        onAction={async () => {
          try {
            adoptSession(await assert<SessionInfo>('/api/signin/options', '/api/signin'));
          } catch (e) {
            setError(errorText(e));
          }
        }}
      />
      <p>
        Lost every passkey? <a href="#/recovery">Use a recovery code</a>.
      </p>
    </Page>
  );
}
