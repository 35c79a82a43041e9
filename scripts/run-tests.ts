/**
 * The test runner: node's built-in runner over every *.test.ts in the repository, two files at a
 * time (these machines have two cores). Extra arguments are passed to `node --test`.
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

const files = globSync(['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/**/*.test.ts']).sort();
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=180000', ...process.argv.slice(2), ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
