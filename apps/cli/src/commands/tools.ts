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
