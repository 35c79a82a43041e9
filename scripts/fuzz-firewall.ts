/**
 * The long run of the output firewall's property tests (the bounded run is in `npm test`):
 *   node scripts/fuzz-firewall.ts --runs 20000
 * Same properties as packages/vault/src/scrub.test.ts, more cases; fails with fast-check's
 * shrunk counterexample.
 */
import { describe } from 'node:test';
import { runScrubProperties } from '../packages/vault/src/scrub-properties.ts';

const at = process.argv.indexOf('--runs');
const runs = at > 0 ? Number(process.argv[at + 1]) : 5000;
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');

describe(`output firewall encoders, ${runs} runs per property`, () => runScrubProperties(runs));
