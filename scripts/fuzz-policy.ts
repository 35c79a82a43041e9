/**
 * The long run of the policy property tests (the bounded run is part of `npm test`):
 *   node scripts/fuzz-policy.ts --runs 100000 [--seed N]
 * Prints one JSON line per property and exits 1 on the first counterexample.
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { cedarContextProperties } from '../packages/policy/src/cedar-context.props.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10000' }, seed: { type: 'string' } } });
const numRuns = Number(values.runs);
if (!Number.isSafeInteger(numRuns) || numRuns < 1) throw new Error('--runs must be a positive integer');
const seed = values.seed === undefined ? Date.now() | 0 : Number(values.seed);

let failed = false;
for (const { name, property } of cedarContextProperties()) {
  const started = performance.now();
  const details = fc.check(property, { numRuns, seed });
  const ms = Math.round(performance.now() - started);
  process.stdout.write(
    `${JSON.stringify({ property: name, runs: details.numRuns, seed, ms, ok: !details.failed, counterexample: details.counterexample ?? undefined })}\n`,
  );
  if (details.failed) failed = true;
}
process.exit(failed ? 1 : 0);
