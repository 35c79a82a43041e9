import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { AccessManifest, type FilesystemGrant } from '@briefcase/protocol';
import type { RemoteConfig } from './config.ts';

/** A starting manifest, and the lines `remote add` prints about what it granted and why. */
export interface Inferred {
  access: AccessManifest;
  notes: string[];
}

/** The Node.js install this daemon runs on (its bin/ parent): what `node` and `npx` need. */
function nodePrefix(): string {
  return dirname(dirname(process.execPath));
}

/** The nearest ancestor of `file` that has a node_modules directory: a script's project. */
function projectRoot(file: string): string | undefined {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) return dir;
  }
  return undefined;
}

const ro = (path: string): FilesystemGrant => ({ path, access: 'ro' });
const rw = (path: string): FilesystemGrant => ({ path, access: 'rw' });

/**
 * `briefcase remote add` infers what well-known launchers need (issue 10): `npx` (the Node
 * install, the npm cache, the npm registry), `node SCRIPT` (the Node install and the script's
 * project read-only), `uvx` (uv's cache, PyPI), `python SCRIPT` (the script's directory). Nothing
 * else is granted: the server's own files are under $TOOL_DIR, read-write. An unknown command
 * gets nothing, and the notes say how to grant more.
 */
export function inferAccess(command: string, args: string[]): Inferred {
  const launcher = basename(command);
  const script = args.find((a) => !a.startsWith('-'));
  const filesystem: FilesystemGrant[] = [];
  const network: string[] = [];
  const notes: string[] = [];
  if (launcher === 'npx' || launcher === 'npm') {
    filesystem.push(ro(nodePrefix()), rw('$HOME/.npm'));
    network.push('registry.npmjs.org');
    notes.push(
      `npx: read-only ${nodePrefix()} (Node.js), read-write $HOME/.npm (the npm cache), network registry.npmjs.org (to fetch the package)`,
    );
  } else if (launcher === 'node' || command === process.execPath) {
    filesystem.push(ro(nodePrefix()));
    const root = script && isAbsolute(script) ? projectRoot(script) : undefined;
    if (root) filesystem.push(ro(root));
    notes.push(
      `node: read-only ${nodePrefix()} (Node.js)${root ? ` and ${root} (the script's project, read-only)` : ''}`,
    );
  } else if (launcher === 'uvx' || launcher === 'uv') {
    filesystem.push(ro(dirname(command.includes('/') ? command : '/usr/bin/uvx')), rw('$HOME/.cache/uv'));
    network.push('pypi.org', 'files.pythonhosted.org');
    notes.push('uvx: read-write $HOME/.cache/uv (the uv cache), network pypi.org and files.pythonhosted.org');
  } else if (/^python(3(\.\d+)?)?$/.test(launcher)) {
    if (script && isAbsolute(script)) filesystem.push(ro(dirname(script)));
    notes.push(`python: the system Python${script && isAbsolute(script) ? ` and ${dirname(script)} read-only` : ''}`);
  } else {
    notes.push(
      `${launcher}: no starting manifest for this command; it gets only its own directory. Grant more with --allow-read, --allow-write and --allow-net`,
    );
  }
  notes.push(
    'its own directory ($TOOL_DIR) read-write; no other file, no other network, no environment beyond PATH and HOME',
  );
  return { access: AccessManifest.parse({ filesystem, network }), notes };
}

/**
 * The manifest a server runs under: its own `access` (or, for a config from before manifests,
 * what its launcher infers), with `env_allow` and `env_secrets` folded in.
 */
export function effectiveAccess(config: RemoteConfig): AccessManifest {
  if (config.transport === 'http') return config.access ?? AccessManifest.parse({});
  const base = config.access ?? inferAccess(config.command, config.args).access;
  return {
    ...base,
    env: [...new Set([...base.env, ...config.env_allow])],
    secrets: { ...config.env_secrets, ...base.secrets },
  };
}
