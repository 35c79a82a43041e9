import { lineDiff } from './diff.ts';
import { visible } from './safe.ts';

/** A line diff, before → after; removed lines marked "-", added "+" (not by colour alone). */
export function DiffView({ before, after, label }: { before: string; after: string; label: string }) {
  const lines = lineDiff(before, after);
  return (
    <pre className="diff" tabIndex={0} aria-label={label}>
      {lines.map((l, i) => (
        <span key={i} className={l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'same'}>
          {l.op === '+' ? '+ ' : l.op === '-' ? '- ' : '  '}
          {visible(l.text)}
          {'\n'}
        </span>
      ))}
    </pre>
  );
}

/** Text for a diff: strings as they are (a policy), anything else as pretty JSON. */
export function diffText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
}
