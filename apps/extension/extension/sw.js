/* global chrome */
/**
 * The service worker: gets a short-lived viewer session from the native host, reads pending
 * approvals and recent receipts from the console's read-only viewer API, keeps the badge count
 * and notifies once per new approval. It polls on an alarm and whenever the popup opens.
 *
 * What it holds: a viewer token in chrome.storage.session (memory only, never written to disk,
 * not readable by content scripts, of which there are none). The token can read the approval
 * list and receipts; it cannot approve, reject or change anything, and it expires in minutes.
 * Approving happens in the console page, with a passkey bound to the console's origin.
 */
import { approvalUrl } from './format.js';

const HOST = 'dev.briefcase.host';
const POLL = 'poll';
/** A session this close to expiry is replaced before use. */
const RENEW_MS = 20_000;
const FETCH_TIMEOUT_MS = 5_000;

class ExtError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

async function newSession() {
  let answer;
  try {
    answer = await chrome.runtime.sendNativeMessage(HOST, { type: 'session' });
  } catch (e) {
    // "Specified native messaging host not found." / "Access to the specified native messaging host is forbidden."
    throw new ExtError('host_missing', `the Briefcase native host did not answer: ${e.message}`);
  }
  if (answer?.type !== 'session') {
    throw new ExtError(answer?.error?.code ?? 'host_error', answer?.error?.message ?? 'the native host refused');
  }
  // Keep the three fields the host promises, nothing else.
  const session = { token: answer.token, expires_at: answer.expires_at, console_url: answer.console_url };
  await chrome.storage.session.set({ session });
  return session;
}

async function session(renew) {
  const { session: s } = await chrome.storage.session.get('session');
  if (!renew && s && Date.parse(s.expires_at) - Date.now() > RENEW_MS) return s;
  return newSession();
}

/** GET a viewer endpoint; one retry with a new session if the console no longer knows ours. */
async function viewer(path) {
  for (const renew of [false, true]) {
    const s = await session(renew);
    let res;
    try {
      res = await fetch(new URL(path, s.console_url), {
        headers: { authorization: `Bearer ${s.token}`, accept: 'application/json' },
        credentials: 'omit',
        cache: 'no-store',
        redirect: 'error',
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
    } catch {
      throw new ExtError('console_unreachable', `the Briefcase console at ${s.console_url} does not answer`);
    }
    if (res.status === 401 && !renew) continue;
    if (!res.ok) throw new ExtError('console_error', `the console answered HTTP ${res.status} for ${path}`);
    return { session: s, body: await res.json() };
  }
  throw new ExtError('console_error', 'the console refused a fresh session');
}

async function notifyNew(pending) {
  const { notified = [] } = await chrome.storage.session.get('notified');
  const seen = new Set(notified);
  for (const a of pending) {
    if (seen.has(a.id)) continue;
    seen.add(a.id);
    // Awaited, so that the state the popup receives was reached after the notification exists.
    await chrome.notifications
      .create(`approval:${a.id}`, {
        type: 'basic',
        iconUrl: 'icons/icon-128.png',
        title: 'Briefcase: an approval waits for you',
        message: `${a.tool} (${a.origin}), tier ${a.tier}`,
        contextMessage: 'Click to decide in the Briefcase console',
        priority: 2,
      })
      .catch(() => {}); // no notification service (some desktops): the badge still counts it
  }
  // Forget ids that are no longer pending, so the list stays small.
  const live = new Set(pending.map((a) => a.id));
  await chrome.storage.session.set({ notified: [...seen].filter((id) => live.has(id)) });
}

async function setBadge(state) {
  if (!state.ok) {
    await chrome.action.setBadgeText({ text: '!' });
    await chrome.action.setBadgeBackgroundColor({ color: '#6b7280' });
    await chrome.action.setTitle({ title: `Briefcase: ${state.error.message}` });
    return;
  }
  const n = state.approvals.length;
  await chrome.action.setBadgeText({ text: n === 0 ? '' : String(n) });
  await chrome.action.setBadgeBackgroundColor({ color: '#b45309' });
  await chrome.action.setTitle({ title: n === 0 ? 'Briefcase: nothing waits' : `Briefcase: ${n} approval(s) wait` });
}

async function load() {
  try {
    const approvals = await viewer('/api/viewer/approvals');
    const receipts = await viewer('/api/viewer/receipts');
    const pending = (approvals.body.approvals ?? []).filter((a) => a.status === 'pending');
    return {
      ok: true,
      console_url: approvals.session.console_url,
      approvals: pending,
      receipts: receipts.body.receipts ?? [],
      verify: receipts.body.verify ?? null,
      fetched_at: new Date().toISOString(),
    };
  } catch (e) {
    const code = e instanceof ExtError ? e.code : 'internal';
    return { ok: false, error: { code, message: e.message ?? String(e) } };
  }
}

let inflight = null;
/** One refresh at a time: the popup and the alarm may ask together. */
function refresh() {
  inflight ??= (async () => {
    const state = await load();
    await setBadge(state);
    if (state.ok) await notifyNew(state.approvals);
    return state;
  })().finally(() => {
    inflight = null;
  });
  return inflight;
}

chrome.runtime.onInstalled.addListener(() => {
  chrome.alarms.create(POLL, { periodInMinutes: 0.5 });
  void refresh();
});
chrome.runtime.onStartup.addListener(() => {
  chrome.alarms.create(POLL, { periodInMinutes: 0.5 });
  void refresh();
});
chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === POLL) void refresh();
});

chrome.notifications.onClicked.addListener(async (id) => {
  const approvalId = id.startsWith('approval:') ? id.slice('approval:'.length) : null;
  if (!approvalId) return;
  const { session: s } = await chrome.storage.session.get('session');
  if (s) await chrome.tabs.create({ url: approvalUrl(s.console_url, approvalId) });
  chrome.notifications.clear(id);
});

// Only this extension's own pages talk to the worker (there is no onMessageExternal listener).
chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (sender.id !== chrome.runtime.id || !sender.url?.startsWith(`chrome-extension://${chrome.runtime.id}/`)) return;
  if (message?.type !== 'refresh') return;
  refresh().then(sendResponse);
  return true; // answered asynchronously
});
