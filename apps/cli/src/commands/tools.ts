import { readFileSync } from 'node:fs';
import type { ToolCallResponse, ToolDescriptor } from '@briefcase/protocol';
import { API_PATHS } from '@briefcase/protocol/api-paths';
import { BriefcaseError } from '@briefcase/protocol/errors';
import type { AdminClient } from '../client.ts';
import { clip, print, printJson, table } from '../output.ts';
import { oneLine } from '../safe-text.ts';

export async function toolsList(c: AdminClient, json: boolean): Promise<void> {
  const { tools } = await c.get<{ tools: ToolDescriptor[] }>(API_PATHS.adminTools);
  if (json) return printJson({ tools });
  print(
    table([
      ['NAME', 'CATEGORY', 'ORIGIN', 'DESCRIPTION'],
      ...tools.map((t) => [t.name, t.category, t.origin, clip(t.description, 70)]),
    ]),
  );
}

/** Returns the exit code: 0 when the call succeeded. */
export async function toolsCall(c: AdminClient, name: string, argsJson: string, json: boolean): Promise<number> {
  let args: unknown;
  try {
    args = JSON.parse(argsJson);
  } catch (e) {
    throw new BriefcaseError('bad_request', `--args is not valid JSON: ${(e as Error).message}`);
  }
  if (args === null || typeof args !== 'object' || Array.isArray(args)) {
    throw new BriefcaseError('bad_request', '--args must be a JSON object, e.g. --args \'{"text":"hi"}\'');
  }
  const response = await c.post<ToolCallResponse>(API_PATHS.adminCall, { tool: name, args });
  if (json) printJson(response);
  else if (response.ok) {
    // A result is a document (its lines stay lines); print() escapes every control in it.
    for (const block of response.result.content) print(block.type === 'text' ? block.text : `[${oneLine(block.type)}]`);
    print(`(receipt ${oneLine(response.receipt_id)})`);
  } else print(`${oneLine(response.error.code)}: ${oneLine(response.error.message)}`);
  return response.ok && !response.result.isError ? 0 : 1;
}

/**
 * `briefcase tools add FILE --manifest MANIFEST` (a code tool) or `briefcase tools add FILE` (a
 * command tool definition, JSON with `"kind": "command"`): a guarded change once a passkey exists.
 */
export async function toolsAdd(
  c: AdminClient,
  file: string,
  manifestFile: string | undefined,
  json: boolean,
): Promise<void> {
  if (manifestFile === undefined) return commandToolAdd(c, file, json);
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  } catch (e) {
    throw new BriefcaseError('bad_request', `${manifestFile}: not readable JSON: ${(e as Error).message}`);
  }
  let code: Buffer;
  try {
    code = readFileSync(file);
  } catch (e) {
    throw new BriefcaseError('bad_request', `${file}: ${(e as Error).message}`);
  }
  const r = await c.post<{ tool: string; runtime: string; code_sha256: string; access: Record<string, unknown> }>(
    '/v1/admin/code-tools',
    { manifest, code_base64: code.toString('base64') },
  );
  if (json) return printJson(r);
  print(`Added the ${oneLine(r.runtime)} code tool ${oneLine(r.tool)} (code sha256 ${oneLine(r.code_sha256)}).`);
  print(`It may reach: ${oneLine(JSON.stringify(r.access))}`);
}

async function commandToolAdd(c: AdminClient, file: string, json: boolean): Promise<void> {
  let definition: unknown;
  try {
    definition = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BriefcaseError('bad_request', `${file}: not readable JSON: ${(e as Error).message}`);
  }
  if ((definition as { kind?: unknown } | null)?.kind !== 'command') {
    throw new BriefcaseError(
      'bad_request',
      `${file}: a command tool definition has "kind": "command"; for a code tool give its manifest with --manifest`,
    );
  }
  const r = await c.post<{ tool: string; argv: string[]; access: Record<string, unknown> }>('/v1/admin/command-tools', {
    definition,
  });
  if (json) return printJson(r);
  print(`Added the command tool ${oneLine(r.tool)}: runs ${oneLine(JSON.stringify(r.argv))} in the sandbox.`);
  print(`It may reach: ${oneLine(JSON.stringify(r.access))}`);
}

/** Remove a code tool or a command tool, whichever has the name. */
export async function toolsRemove(c: AdminClient, name: string, json: boolean): Promise<void> {
  const id = encodeURIComponent(name);
  let kind = 'code';
  let r: { tool: string };
  try {
    r = await c.delete<{ tool: string }>(`/v1/admin/code-tools/${id}`);
  } catch (e) {
    if (!(e instanceof BriefcaseError) || e.code !== 'not_found') throw e;
    kind = 'command';
    r = await c.delete<{ tool: string }>(`/v1/admin/command-tools/${id}`);
  }
  if (json) return printJson(r);
  print(`Removed the ${kind} tool ${oneLine(r.tool)}.`);
}
