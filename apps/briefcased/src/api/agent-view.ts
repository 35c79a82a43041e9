import type { ServerResponse } from 'node:http';
import type { Scrubber } from '@briefcase/vault';

/**
 * The one place every byte the agent role reads from the daemon passes (DESIGN.md §2 step 10,
 * issue 8 class 4): tool listings (remote names, titles, descriptions, schemas, annotations),
 * call results and errors, streamed progress and log lines, approval status. The server marks
 * each agent-authenticated response; `sendJson` and `agentLine` turn bodies into text here, so
 * a new agent route is firewalled without anyone remembering to.
 */
export interface View {
  scrubber: Scrubber;
  onWithheld: () => void;
}

const views = new WeakMap<ServerResponse, View>();

export const WITHHELD_MESSAGE =
  'the Briefcase withheld this answer: it carried a secret that could not be removed safely';

export function firewallResponses(res: ServerResponse, scrubber: Scrubber, onWithheld: () => void): void {
  views.set(res, { scrubber, onWithheld });
}

/**
 * The JSON text of `body` as `res`'s reader may see it, or undefined when it must be withheld.
 * Clean text (the common case) costs one pass of the scrubber's pattern.
 */
export function viewText(res: ServerResponse, body: unknown): string | undefined {
  return firewallText(views.get(res), body);
}

/** `viewText` for a reader that is not an HTTP response (the call stream, call-stream.ts). */
export function firewallText(view: View | undefined, body: unknown): string | undefined {
  if (!view) return JSON.stringify(body);
  const { scrubber } = view;
  try {
    const text = JSON.stringify(body);
    if (!scrubber.contains(text)) return text;
    // Scrub strings, keys and numbers in the structure, so the JSON stays well-formed.
    const walked = JSON.stringify(scrubber.scrubValue(body));
    if (!scrubber.contains(walked)) return walked;
    // What is left spans JSON syntax (a secret split across two strings): scrub the text, and
    // keep it only if it is still JSON and clean.
    const flat = scrubber.scrub(walked);
    JSON.parse(flat);
    if (!scrubber.contains(flat)) return flat;
  } catch {
    // Too deep to walk, or the scrub broke the JSON: fail closed.
  }
  view.onWithheld();
  return undefined;
}
