import { readFileSync } from 'node:fs';
import { API_PATHS } from '@briefcase/protocol/api-paths';
import type { AdminClient } from '../client.ts';
import { print, printDocument, printJson } from '../output.ts';

export async function policyShow(c: AdminClient, json: boolean): Promise<void> {
  const p = await c.get<{ text: string; hash: string }>(API_PATHS.adminPolicy);
  if (json) printJson(p);
  // A policy file is a document: lines stay lines, but a bidi control in it ("Trojan Source") shows.
  else printDocument(p.text);
}

/** Local check against the schema: needs no daemon (but loads Cedar). Returns the exit code. */
export async function policyCheck(file: string, json: boolean): Promise<number> {
  const { compilePolicy } = await import('@briefcase/policy');
  const text = readFileSync(file, 'utf8');
  const compiled = compilePolicy(text);
  const result = compiled.ok
    ? { ok: true, errors: [], warnings: compiled.value.warnings }
    : { ok: false, errors: compiled.error, warnings: [] };
  if (json) printJson({ file, ...result });
  else if (result.ok) {
    print(`${file}: valid (${compiled.ok ? compiled.value.ids.length : 0} policies)`);
    for (const w of result.warnings) print(`  warning: ${w}`);
  } else for (const e of result.errors) print(`${file}: ${e}`);
  return result.ok ? 0 : 1;
}

export async function policyApply(c: AdminClient, file: string, json: boolean): Promise<number> {
  if ((await policyCheck(file, false)) !== 0) return 1;
  const text = readFileSync(file, 'utf8');
  const r = await c.put<{ hash: string; old_hash: string }>(API_PATHS.adminPolicy, { text });
  if (json) printJson(r);
  else print(`Applied ${file}: policy ${r.old_hash.slice(0, 12)} → ${r.hash.slice(0, 12)} (receipted)`);
  return 0;
}
