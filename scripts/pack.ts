/**
 * `npm run pack`: the npm package `briefcase-agent` (bin `briefcase`), as a tarball in
 * .tmp/pack/. The repository runs its TypeScript directly; an installed package cannot (Node does
 * not strip types under node_modules), so this bundles the CLI (with the daemon and the gateway it
 * runs in-process) into ESM chunks with esbuild, one chunk per lazily imported command, plus the
 * code tools' worker threads, the extension's native host and the payment-helper. Native and WebAssembly dependencies
 * stay real dependencies at the versions the repository's lockfile installs. The console's built
 * page and the unpacked extension are copied as they are. Same sources, same tarball: esbuild's
 * output is deterministic and npm pack fixes every file's time.
 *
 *   node scripts/pack.ts [--out DIR]     prints the tarball's path on stdout
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { PACKAGE_NAME } from '@briefcase/protocol/invocation';
import { VERSION } from '@briefcase/briefcased/version';

const ROOT = resolve(import.meta.dirname, '..');
const outArg = process.argv.indexOf('--out');
const OUT = resolve(outArg > 0 ? process.argv[outArg + 1]! : join(ROOT, '.tmp/pack'));
const STAGE = join(OUT, 'package');

/**
 * Loaded with createRequire() on first use, which esbuild does not follow: `diff`, for the change
 * `client connect` shows (packages/host-config/src/connect.ts; `client list` never loads it).
 */
const LAZY = ['diff'];
/** Loaded from node_modules at run time: native addons and modules that read their own .wasm files. */
const REQUIRED = ['@cedar-policy/cedar-wasm', '@napi-rs/keyring', 'quickjs-emscripten', ...LAZY];
/**
 * PKCS#11 (graphene-pk11 over pkcs11js, a C++ addon compiled at install): optional, so that an
 * install where it cannot compile still succeeds; the keys package loads it on first use.
 */
const OPTIONAL = ['graphene-pk11'];
const EXTERNAL = [...REQUIRED, ...OPTIONAL];

/** Files a bundle finds next to itself: the source names them as .ts siblings, the package as .js ones. */
const REWRITES: [RegExp, string, string][] = [
  [/packages\/code-tools\/src\/quickjs-pool\.ts$/, "'./quickjs-worker.ts'", "'./quickjs-worker.js'"],
  [/packages\/code-tools\/src\/wasm\.ts$/, "'./wasm-worker.ts'", "'./wasm-worker.js'"],
  [/apps\/extension\/src\/install\.ts$/, "'native-host-main.ts'", "'native-host-main.js'"],
  [/packages\/payments\/src\/node\/helper-signer\.ts$/, "'helper-main.ts'", "'helper-main.js'"],
];

const siblings: Plugin = {
  name: 'siblings',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, (args) => {
      let text = readFileSync(args.path, 'utf8');
      for (const [file, from, to] of REWRITES) {
        if (!file.test(args.path)) continue;
        if (!text.includes(from)) throw new Error(`${args.path} no longer names ${from}: update scripts/pack.ts`);
        text = text.replaceAll(from, to);
      }
      return { contents: text, loader: 'ts' };
    });
  },
};

function versionOf(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;
}

const consoleDist = join(ROOT, 'apps/console/web/dist');
if (!existsSync(join(consoleDist, 'index.html'))) {
  throw new Error(`${consoleDist} is missing: run \`npm run build -w @briefcase/console\` (npm ci does it) first`);
}
rmSync(STAGE, { recursive: true, force: true });
mkdirSync(STAGE, { recursive: true });

await build({
  absWorkingDir: ROOT,
  entryPoints: {
    main: 'apps/cli/src/main.ts',
    'quickjs-worker': 'packages/code-tools/src/quickjs-worker.ts',
    'wasm-worker': 'packages/code-tools/src/wasm-worker.ts',
    'native-host-main': 'apps/extension/src/native-host-main.ts',
    // The payment-helper process (the only signer with the payment key), spawned by path.
    'helper-main': 'packages/payments/src/node/helper-main.ts',
  },
  outdir: join(STAGE, 'dist'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  // Every chunk directly in dist/: modules find their siblings (workers) and ../web, ../extension.
  chunkNames: '[name]-[hash]',
  external: EXTERNAL,
  // jsonc-parser's `main` is a UMD build whose require('./impl/…') calls esbuild cannot follow
  // (the bundle failed at run time: "Cannot find module './impl/format'"); its ESM build bundles.
  alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
  plugins: [siblings],
  // Bundled CommonJS modules call require(); ESM has none of its own.
  banner: {
    js: "import { createRequire as __bcRequire } from 'node:module'; const require = __bcRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
});

// The bin: the repository's, pointing at the bundle instead of the sources.
const bin = readFileSync(join(ROOT, 'apps/cli/bin/briefcase.js'), 'utf8');
const SOURCE_ENTRY = "await import('../src/main.ts');";
if (!bin.includes(SOURCE_ENTRY)) throw new Error(`apps/cli/bin/briefcase.js no longer ends with ${SOURCE_ENTRY}`);
mkdirSync(join(STAGE, 'bin'));
writeFileSync(
  join(STAGE, 'bin/briefcase.js'),
  bin
    .replace(SOURCE_ENTRY, "await import('../dist/main.js');")
    .replace(
      /^\/\/ The `briefcase` command\..*\n.*\n/m,
      '// The `briefcase` command, bundled by scripts/pack.ts (the repository runs the sources).\n',
    ),
  { mode: 0o755 },
);
// Beside dist/, where the bundled console and extension modules look (import.meta.dirname/..).
cpSync(consoleDist, join(STAGE, 'web/dist'), { recursive: true });
cpSync(join(ROOT, 'apps/extension/extension'), join(STAGE, 'extension'), { recursive: true });
cpSync(join(ROOT, 'docs/install.md'), join(STAGE, 'README.md'));

const manifest = {
  name: PACKAGE_NAME,
  version: VERSION,
  description: 'Briefcase: let AI agents act for you without ever handing them a secret.',
  type: 'module',
  license: 'UNLICENSED',
  engines: { node: '>=24' },
  bin: { briefcase: 'bin/briefcase.js' },
  files: ['bin', 'dist', 'web', 'extension', 'README.md'],
  dependencies: Object.fromEntries(REQUIRED.map((name) => [name, versionOf(name)])),
  optionalDependencies: Object.fromEntries(OPTIONAL.map((name) => [name, versionOf(name)])),
};
writeFileSync(join(STAGE, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

const packed = spawnSync('npm', ['pack', '--json', '--pack-destination', OUT], {
  cwd: STAGE,
  encoding: 'utf8',
  env: Object.fromEntries(
    Object.entries(process.env).filter(([k]) => ['PATH', 'HOME', 'npm_config_cache'].includes(k)),
  ),
});
if (packed.status !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
process.stdout.write(`${join(OUT, filename)}\n`);
