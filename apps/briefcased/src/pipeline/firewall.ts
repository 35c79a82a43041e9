import type { ToolResult } from '@briefcase/protocol';
import type { Scrubber } from '@briefcase/vault';

/** Phrases that suggest a tool output is trying to instruct the agent (flagged, not removed). */
const INJECTION_PATTERNS: [string, RegExp][] = [
  ['ignore_previous_instructions', /ignore (all |any )?(previous|prior|above) (instructions|prompts)/i],
  ['system_prompt_marker', /<\/?(system|assistant)>|\[\/?INST\]/i],
  [
    'exfiltration_request',
    /(send|post|upload|exfiltrate) (the |your |all )?(api[ _-]?keys?|secrets?|tokens?|passwords?|credentials)/i,
  ],
];

export interface FirewallOutcome {
  result: ToolResult;
  /** `result` as JSON, serialised once here (the receipt hashes it). */
  json: string;
  truncated: boolean;
  flags: string[];
}

/**
 * DESIGN.md §2 step 10. Every strong secret value the vault holds, in every encoding the scrubber
 * knows, is replaced in the whole result (text, structured content, error text); the result is
 * capped in size; and
 * injection-looking phrases are flagged for the receipt (the anomaly detector reads them later).
 */
export function firewallOutput(result: ToolResult, scrubber: Scrubber, maxBytes: number): FirewallOutcome {
  // Strings, keys and numbers are scrubbed in place, so the result stays well-formed; a result
  // nested too deeply to walk throws, and the pipeline fails the call closed.
  const scrubbed = scrubber.scrubValue(result);
  const text = scrubbed.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
  const flags = INJECTION_PATTERNS.filter(([, re]) => re.test(text)).map(([name]) => name);
  const json = JSON.stringify(scrubbed);
  const size = Buffer.byteLength(json);
  if (size <= maxBytes) return { result: scrubbed, json, truncated: false, flags };
  const budget = Math.max(0, maxBytes - 256);
  const full = text.length > budget ? text.slice(0, budget) : text;
  const cut: ToolResult = {
    content: [
      { type: 'text', text: `${full}\n[truncated by Briefcase: the result was ${size} bytes, limit ${maxBytes}]` },
    ],
    ...(scrubbed.isError ? { isError: true } : {}),
  };
  return { result: cut, json: JSON.stringify(cut), truncated: true, flags };
}
