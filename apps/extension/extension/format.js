/**
 * Pure functions the popup renders with (no chrome.*, no DOM), so Node tests them too
 * (apps/extension/src/format.test.ts). Everything here handles text an agent chose: the popup puts
 * it in the page with textContent only, and invisible or control characters are shown as escapes
 * so that what a person reads is what the daemon will run.
 */

// Control, format (bidi overrides, zero-width), private-use, line/paragraph separators.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Zl}\p{Zp}]/gu;

/**
 * `text` with invisible and control characters written as \u{…}, and how many there were.
 * `multiline` keeps line feeds (pretty-printed JSON, whose strings have theirs escaped already).
 */
export function visible(text, multiline = false) {
  let hidden = 0;
  const shown = String(text).replace(INVISIBLE, (c) => {
    if (multiline && c === '\n') return c;
    hidden += 1;
    return `\\u{${c.codePointAt(0).toString(16)}}`;
  });
  return { text: shown, hidden };
}

/** The arguments, pretty-printed (the daemon already redacted the sensitive ones). */
export function argumentsText(args) {
  return visible(JSON.stringify(args ?? {}, null, 2), true);
}

/** The same wording as the CLI: the daemon counts cost in the currency's minor units. */
export function costText(cost, currency) {
  return `${Number(cost)} ${visible(currency).text} minor units (estimated)`;
}

/** "in 9 min 5 s" or "expired", from the approval's expires_at. */
export function expiresText(expiresAt, now = Date.now()) {
  const ms = Date.parse(expiresAt) - now;
  if (!Number.isFinite(ms)) return 'unknown';
  if (ms <= 0) return 'expired';
  const s = Math.round(ms / 1000);
  return s >= 60 ? `in ${Math.floor(s / 60)} min ${s % 60} s` : `in ${s} s`;
}

/**
 * The facts a person needs to decide, in the console's order: label, value and, where the
 * value hides characters, a warning.
 */
export function approvalFacts(a, now = Date.now()) {
  const args = argumentsText(a.args);
  const row = (label, value, pre = false) => {
    const v = visible(value ?? '-');
    return { label, value: v.text, pre, hidden: v.hidden };
  };
  return [
    row('Tool', a.tool),
    row('Server', a.origin),
    { label: 'Arguments', value: args.text, pre: true, hidden: args.hidden },
    row('Reads', a.reads),
    row('Changes', a.changes),
    row('Cost', costText(a.estimated_cost, a.currency)),
    row('Why', a.reason),
    row('Tier', a.tier),
    row('Expires', `${expiresText(a.expires_at, now)} (${a.expires_at})`),
  ];
}

/** The console page where this approval is decided (the passkey ceremony happens there). */
export function approvalUrl(consoleUrl, id) {
  const u = new URL(consoleUrl);
  u.pathname = '/';
  u.search = '';
  u.hash = `#/approvals/${encodeURIComponent(id)}`;
  return u.href;
}

/** One line per receipt: "#12 14:03:07 approval notes.add approved · passkey". */
export function receiptLine(r) {
  const what = [r.tool, r.event, r.outcome].filter((x) => typeof x === 'string' && x !== '').join(' ');
  const time = typeof r.ts === 'string' ? r.ts.replace(/^.*T/, '').replace(/\..*$|Z$/, '') : '';
  return visible(`#${r.seq} ${time} ${r.kind}${what ? ` ${what}` : ''}${r.presence ? ' · passkey' : ''}`).text;
}

/** The log's verification, in one sentence. */
export function verifyText(v) {
  if (!v) return { ok: null, text: 'Verification status unknown.' };
  if (v.ok) {
    return {
      ok: true,
      text: `Receipt log verified: ${v.records} records, ${v.checkpoints} signed checkpoints, ${v.assertions} passkey assertions.`,
    };
  }
  const problems = (v.problems ?? []).slice(0, 3).map((p) => visible(p).text);
  return {
    ok: false,
    text: `Receipt log does NOT verify: ${problems.join('; ') || 'see `briefcase receipts verify`'}`,
  };
}

/** What to do about an error the service worker reported (onboarding help). */
export function helpFor(code) {
  switch (code) {
    case 'host_missing':
      return 'Register the native host: run `briefcase extension install` (add --browser chrome for Google Chrome), then reload this extension.';
    case 'not_initialised':
      return 'Set up Briefcase first: `briefcase init`, then `briefcase start`.';
    case 'no_access':
      return 'The daemon runs as its own service user, so this browser’s user cannot get a session from it; use `briefcase console` instead.';
    case 'daemon_unreachable':
      return 'Start the daemon: `briefcase start`.';
    case 'console_unreachable':
      return 'Start the console: `briefcase console` (it prints the link to enrol your first passkey).';
    default:
      return 'Run `briefcase doctor` to see what is wrong.';
  }
}
