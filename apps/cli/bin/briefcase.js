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
await import('../src/main.ts');
