/* global chrome, document */
/**
 * The popup: asks the service worker for the current state (which refreshes it) and renders it.
 * Approvals, arguments and receipts are text an agent or a remote server chose: they reach the
 * page through textContent only, never as HTML.
 */
import { approvalFacts, approvalUrl, helpFor, receiptLine, verifyText } from './format.js';

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, children = []) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
};

async function openInConsole(url) {
  await chrome.tabs.create({ url });
}

function renderApproval(a, consoleUrl) {
  const facts = approvalFacts(a);
  const dl = el('dl');
  for (const f of facts) {
    const value = f.pre ? el('pre', { text: f.value }) : el('span', { text: f.value });
    const dd = el('dd', {}, [value]);
    if (f.hidden > 0) {
      dd.append(
        el('div', {
          class: 'warning',
          text: `${f.hidden} invisible or control character${f.hidden === 1 ? '' : 's'}, shown as \\u{…} escapes`,
        }),
      );
    }
    dl.append(el('dt', { text: f.label }), dd);
  }
  const button = el('button', { type: 'button', 'data-approval': a.id, text: 'Approve with passkey…' });
  button.addEventListener('click', () => openInConsole(approvalUrl(consoleUrl, a.id)));
  const note = el('p', {
    class: 'note',
    text: 'Opens the Briefcase console, which asks for your passkey. You can also reject it there.',
  });
  return el('li', { class: 'approval', 'data-id': a.id }, [dl, button, note]);
}

function render(state) {
  const status = $('status');
  $('problem').hidden = state.ok;
  $('approvals-section').hidden = !state.ok;
  $('receipts-section').hidden = !state.ok;
  if (!state.ok) {
    status.textContent = 'Not connected.';
    $('problem-message').textContent = state.error.message;
    $('problem-help').textContent = helpFor(state.error.code);
    $('help').open = true;
    return;
  }
  const link = $('console-link');
  link.hidden = false;
  link.href = state.console_url;
  link.onclick = (e) => {
    e.preventDefault();
    void openInConsole(state.console_url);
  };
  const n = state.approvals.length;
  status.textContent = n === 0 ? 'Nothing waits for your approval.' : `${n} approval${n === 1 ? '' : 's'} waiting.`;
  $('approvals').replaceChildren(...state.approvals.map((a) => renderApproval(a, state.console_url)));
  $('approvals-section').hidden = n === 0;
  const v = verifyText(state.verify);
  const verify = $('verify');
  verify.textContent = v.text;
  verify.className = `verify ${v.ok === true ? 'ok' : v.ok === false ? 'bad' : ''}`;
  $('receipts').replaceChildren(...state.receipts.slice(0, 10).map((r) => el('li', { text: receiptLine(r) })));
}

let shown = '';
/** Re-render only on a change: replacing the list would take the keyboard focus off a button. */
function update(state) {
  const { fetched_at: _, ...rest } = state;
  const key = JSON.stringify(rest);
  if (key === shown) return;
  shown = key;
  render(state);
}

async function refresh() {
  try {
    update(await chrome.runtime.sendMessage({ type: 'refresh' }));
  } catch (e) {
    update({ ok: false, error: { code: 'internal', message: e.message ?? String(e) } });
  }
}

await refresh();
// While the popup is open, keep the list and the expiry times current.
setInterval(refresh, 5_000);
