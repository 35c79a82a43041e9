/**
 * Helpers for the output-firewall attack tests: the encodings a hostile upstream uses, and an
 * attacker's decoding oracle that is independent of the product's scrubber.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { BIN } from '../../helpers.ts';

export { escapedForms } from './escapes.ts';

/** Undo one level of JSON string escaping wherever it appears in `text`. */
function unescapeJson(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|["\\/bfnrt])/g, (_, e: string) => {
    if (e[0] === 'u') return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[e] ?? e;
  });
}

/**
 * An attacker's oracle: does `text` give `secret` away raw, behind up to six levels of JSON
 * escaping, URL-encoded, hex-encoded, or inside any base64/base64url run once decoded?
 */
export function leaks(text: string, secret: string): string | null {
  let level = text;
  for (let depth = 0; depth <= 6; depth++) {
    const found = leaksOnce(level, secret);
    if (found) return depth ? `${found} behind ${depth} level(s) of JSON escaping` : found;
    const next = unescapeJson(level);
    if (next === level) break;
    level = next;
  }
  return null;
}

function leaksOnce(text: string, secret: string): string | null {
  if (text.includes(secret)) return 'raw';
  for (const run of text.match(/(%[0-9A-Fa-f]{2}|[^\s%"'<>\\{}[\]])+/g) ?? []) {
    try {
      if (decodeURIComponent(run.replace(/\+/g, ' ')).includes(secret)) return 'url-encoded';
    } catch {}
  }
  return bytesLeak(text, Buffer.from(secret, 'utf8'));
}

/** The same oracle for binary secrets (key material): hex, or inside a decoded base64 run. */
export function bytesLeak(text: string, secret: Uint8Array): string | null {
  const bytes = Buffer.from(secret);
  if (text.toLowerCase().includes(bytes.toString('hex'))) return 'hex';
  if (text.includes(bytes.toString('base64url').slice(0, -2))) return 'base64url';
  for (const run of text.match(/[A-Za-z0-9+/_-]{8,}/g) ?? []) {
    for (let skip = 0; skip < 4; skip++) {
      for (const form of ['base64', 'base64url'] as const) {
        if (Buffer.from(run.slice(skip), form).includes(bytes)) return form;
      }
    }
  }
  return null;
}

/** An official-SDK agent over `briefcase mcp`, with the gateway's stderr kept for the leak scan. */
export async function agentWithStderr(home: string): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', '--approval-wait', '0'],
    env: { PATH: process.env.PATH ?? '', BRIEFCASE_HOME: home },
    stderr: 'pipe',
  });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const client = new Client({ name: 'hostile-agent', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => err };
}
