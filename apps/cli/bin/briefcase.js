#!/usr/bin/env node
// The `briefcase` command. Node 24 runs the TypeScript sources directly (type stripping),
// so there is no build step between a fresh clone and a working CLI.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `briefcase needs Node.js 24 or newer (this is ${process.versions.node}).\n` +
      'In this repository, run `. ../shared/toolchain.sh` or install Node 24.\n',
  );
  process.exit(1);
}
// Node's compile cache keeps the type-stripped and compiled sources between runs: without it every
// `briefcase` process strips its TypeScript again, which is most of its start-up time (an approver's
// `approvals approve` races the approval's lifetime). Per user, private (0700), keyed by each
// file's contents; NODE_COMPILE_CACHE or NODE_DISABLE_COMPILE_CACHE override it.
try {
  const { enableCompileCache } = await import('node:module');
  const { mkdirSync } = await import('node:fs');
  const { homedir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'briefcase', 'node-compile-cache');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  enableCompileCache(dir);
} catch {
  // No writable cache directory: run without one.
}
await import('../src/main.ts');
