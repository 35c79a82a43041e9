import { cliJson, sleep } from '../helpers.ts';

/** One file of `briefcase connectors list --json`. */
export interface State {
  file: string;
  state: 'ok' | 'disabled';
  reason: string | null;
  tools: string[];
}

/** A valid HTTP connector manifest (it is never called: the tests look at loading, not calls). */
export function manifest(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'http',
    name,
    description: `the ${name} connector`,
    category: 'read',
    input_schema: { type: 'object', additionalProperties: false },
    request: {
      method: 'GET',
      url: 'https://api.example.com/x',
      headers: { Authorization: 'Bearer {{secret:example_key}}' },
    },
    egress: ['api.example.com'],
    ...extra,
  };
}

/** Poll `connectors list` until `ok(states)` holds (generous bound: the machine is shared). */
export async function until(home: string, ok: (s: State[]) => boolean, what: string): Promise<State[]> {
  let last: State[] = [];
  for (let i = 0; i < 300; i++) {
    last = cliJson<{ connectors: State[] }>(home, ['connectors', 'list']).json.connectors;
    if (ok(last)) return last;
    await sleep(100);
  }
  throw new Error(`${what}: never happened; last ${JSON.stringify(last)}`);
}
