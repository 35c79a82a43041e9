import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { ApiError } from './api.ts';

/** Load data for a page; `reload` fetches again (after an event or an action). */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const reload = useCallback(() => {
    load().then(
      (d) => {
        setData(d);
        setError(undefined);
      },
      (e: unknown) => setError(e instanceof ApiError ? `${e.message} (${e.code})` : String(e)),
    );
  }, deps);
  useEffect(reload, [reload]);
  return { data, error, reload };
}

export function Page(props: { title: string; children: ReactNode; intro?: ReactNode }) {
  useEffect(() => {
    document.title = `${props.title} · Briefcase console`;
  }, [props.title]);
  return (
    <>
      <h1>{props.title}</h1>
      {props.intro ? <p className="intro">{props.intro}</p> : null}
      {props.children}
    </>
  );
}

export function ErrorNote({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {error}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return <p className="muted">Loading {what}…</p>;
}

/** Status messages for screen readers and eyes (polite live region). */
export function Status({ message }: { message: string | undefined }) {
  return (
    <p className="status" role="status" aria-live="polite">
      {message ?? ''}
    </p>
  );
}

export function Facts({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="facts">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A button that runs an async action once at a time and reports its outcome. */
export function ActionButton(props: {
  label: string;
  busyLabel?: string;
  onAction: () => Promise<void>;
  kind?: 'primary' | 'danger' | 'plain';
  describedBy?: string;
}) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      className={`btn ${props.kind ?? 'plain'}`}
      disabled={busy}
      aria-describedby={props.describedBy}
      onClick={() => {
        setBusy(true);
        props.onAction().finally(() => setBusy(false));
      }}
    >
      {busy ? (props.busyLabel ?? 'Working…') : props.label}
    </button>
  );
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.message} (${e.code})`;
  if (e instanceof Error)
    return e.name === 'NotAllowedError' ? 'The passkey prompt was cancelled or timed out.' : e.message;
  return String(e);
}
