/**
 * `npm run fuzz [-- --runs N]`: the long runs of the property tests. `npm test` runs each property
 * a bounded number of times; this runs every `scripts/fuzz-*.ts` one after the other with many
 * more cases (default 20,000 each) and stops at the first counterexample, which fast-check prints
 * with its seed so it can be replayed.
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

const args = process.argv.slice(2);
if (!args.includes('--runs')) args.push('--runs', '20000');
for (const file of globSync('scripts/fuzz-*.ts').sort()) {
  process.stderr.write(`fuzz: ${file} ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [file, ...args], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
