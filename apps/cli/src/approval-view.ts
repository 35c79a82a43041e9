import type { ApprovalView } from '@briefcase/protocol';
import { oneLine, countUnsafe } from './safe-text.ts';

/** Above this many characters a string argument gets a notice: the end of it is what people miss. */
export const LONG_VALUE = 200;

/** Scripts whose letters are mistaken for each other ("pаypal" with a Cyrillic а). */
const CONFUSABLE_SCRIPTS = ['Latin', 'Greek', 'Cyrillic', 'Armenian', 'Cherokee'] as const;
const SCRIPT_RE = Object.fromEntries(CONFUSABLE_SCRIPTS.map((s) => [s, new RegExp(`\\p{Script=${s}}`, 'u')]));

/** The first word of `text` that mixes scripts, and the scripts it mixes. */
function mixedScripts(text: string): { word: string; scripts: string[] } | undefined {
  for (const word of text.match(/[\p{L}\p{M}]+/gu) ?? []) {
    const scripts = CONFUSABLE_SCRIPTS.filter((s) => SCRIPT_RE[s]!.test(word));
    if (scripts.length > 1) return { word, scripts };
  }
  return undefined;
}

/**
 * What an approver should look at twice in the arguments: invisible or control characters (shown
 * as escapes), long values, and words that mix look-alike scripts. Keys are checked as well as
 * values: an agent chooses both.
 */
export function argumentNotices(value: unknown, path = 'args'): string[] {
  const notices: string[] = [];
  const text = (where: string, s: string) => {
    const hidden = countUnsafe(s);
    if (hidden > 0) {
      notices.push(
        `${where} contains ${hidden} invisible or control character${hidden === 1 ? '' : 's'}, shown as \\u escapes`,
      );
    }
    const length = [...s].length;
    if (length > LONG_VALUE) notices.push(`${where} is ${length} characters long: read it to the end`);
    const mixed = mixedScripts(s);
    if (mixed) {
      notices.push(
        `${where} mixes ${mixed.scripts.join(' and ')} letters in one word ("${oneLine(mixed.word)}"): look-alikes`,
      );
    }
  };
  if (typeof value === 'string') text(path, value);
  else if (Array.isArray(value)) value.forEach((v, i) => notices.push(...argumentNotices(v, `${path}[${i}]`)));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const where = `${path}.${oneLine(k)}`;
      text(`the key of ${where}`, k);
      notices.push(...argumentNotices(v, where));
    }
  }
  return notices;
}

/** How wide the one-line summary of the arguments is in `approvals list` and `approvals watch`. */
export const ARGS_SUMMARY_WIDTH = 60;

/**
 * The arguments on one line: their JSON with every control, bidi and invisible character shown
 * as an escape (safe-text.ts), clipped to `max` characters as the terminal shows them, so a huge
 * or hostile value cannot push the rest of the row away. Values the tool's manifest marks
 * sensitive arrive from the daemon already redacted. The full arguments: `approvals show`.
 */
export function argsSummary(args: unknown, max = ARGS_SUMMARY_WIDTH): string {
  // Rendering never shortens text, so the first max+1 code points of the JSON are all that can show.
  const head = [...(JSON.stringify(args) ?? 'null').slice(0, 2 * (max + 1))].slice(0, max + 1);
  let out = '';
  for (const ch of head) {
    const shown = oneLine(ch);
    if ([...out].length + [...shown].length > max) return `${[...out].slice(0, max - 1).join('')}…`;
    out += shown;
  }
  return out;
}

/** The arguments as JSON: on one line when short, one field per line when not. */
function argumentsText(args: unknown): string {
  const flat = JSON.stringify(args);
  if (flat.length <= 100) return oneLine(flat);
  return JSON.stringify(args, null, 2)
    .split('\n')
    .map((l, i) => (i === 0 ? oneLine(l) : `             ${oneLine(l)}`))
    .join('\n');
}

/**
 * The human view of an approval. Every field is rendered on one line with invisible and control
 * characters escaped (the JSON of the arguments already escapes newlines), and notices say where
 * the arguments need a second look.
 */
export function describeApproval(a: ApprovalView): string {
  const notices = [...argumentNotices(a.args), ...argumentNotices(a.tool, 'the tool name')];
  return [
    `approval ${oneLine(a.id)} (${oneLine(a.status)}, tier ${oneLine(a.tier)})`,
    `  tool       ${oneLine(a.tool)} (${oneLine(a.category)}, ${oneLine(a.origin)}), requested by ${oneLine(a.requested_by)}`,
    `  arguments  ${argumentsText(a.args)}`,
    ...notices.map((n) => `  warning    ${n}`),
    `  reads      ${oneLine(a.reads ?? '-')}`,
    `  changes    ${oneLine(a.changes ?? '-')}`,
    ...(a.access ? [`  may reach  ${oneLine(a.access)}`] : []),
    `  cost       ${oneLine(a.estimated_cost)} ${oneLine(a.currency)} minor units (estimated)`,
    ...(a.payment
      ? [
          `  PAYMENT    ${oneLine(a.payment.display)}`,
          `    rail     ${oneLine(a.payment.rail)} on ${oneLine(a.payment.network)}, asset ${oneLine(a.payment.asset)}`,
          `    payee    ${oneLine(a.payment.payee)}`,
          `    grant    ${oneLine(a.payment.grant_id)}; approving pays exactly this once (hash ${oneLine(a.payment.hash)})`,
        ]
      : []),
    `  why        ${oneLine(a.reason)}`,
    `  expires    ${oneLine(a.expires_at)}`,
    `  call hash  ${oneLine(a.call_hash)}`,
  ].join('\n');
}
