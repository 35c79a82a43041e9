/**
 * Longer runs of the hostile-input properties (issue 8, acceptance criterion 3): JSON-RPC
 * framing, argument validation and call hashing. `npm test` runs 200 cases of each;
 * this runs as many as asked: `node scripts/fuzz-input.ts --runs 100000`.
 */
import { parseArgs } from 'node:util';
import { framingProperty, hashingProperty, validationProperty } from '../test/attacks/lib/input-properties.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10000' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');

for (const [name, run] of [
  ['framing', () => framingProperty(runs)],
  ['validation', () => validationProperty(runs)],
  ['hashing', () => hashingProperty(runs)],
] as const) {
  const started = performance.now();
  await run();
  process.stdout.write(`${JSON.stringify({ property: name, runs, ms: Math.round(performance.now() - started) })}\n`);
}
