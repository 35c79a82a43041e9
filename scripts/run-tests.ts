/**
 * The test runner: node's built-in runner over every *.test.ts in the repository, two files at a
 * time (these machines have two cores). Extra arguments are passed to `node --test`.
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

const files = globSync(['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/**/*.test.ts']).sort();
// Tests never touch the session keyring of whoever runs them: without a session bus, `init`
// falls back to a key file. test/keychain.test.ts starts its own bus and gnome-keyring.
const env = { ...process.env };
delete env.DBUS_SESSION_BUS_ADDRESS;
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=180000', ...process.argv.slice(2), ...files],
  { stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
