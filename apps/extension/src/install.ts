import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { EXTENSION_ID, EXTENSION_ORIGIN, HOST_NAME } from './extension-id.ts';

export const BROWSERS = ['chromium', 'chrome'] as const;
export type Browser = (typeof BROWSERS)[number];

/** The unpacked extension (what "Load unpacked" points at). */
export const EXTENSION_DIR = resolve(import.meta.dirname, '../extension');
const HOST_ENTRY = resolve(import.meta.dirname, 'native-host-main.ts');

export type InstallErrorCode = 'unsupported_platform' | 'bad_path';
export class InstallError extends Error {
  readonly code: InstallErrorCode;
  constructor(code: InstallErrorCode, message: string) {
    super(message);
    this.name = 'InstallError';
    this.code = code;
  }
}

/**
 * Where a browser looks for per-user native messaging host manifests. With its own
 * --user-data-dir, Chromium reads <dir>/NativeMessagingHosts and ignores the per-user one
 * (verified on this machine, RECIPES §8).
 * https://developer.chrome.com/docs/extensions/develop/concepts/native-messaging#native-messaging-host-location
 */
export function hostManifestDir(browser: Browser, userDataDir?: string, home = homedir()): string {
  if (userDataDir !== undefined) {
    if (!isAbsolute(userDataDir))
      throw new InstallError('bad_path', `--user-data-dir must be absolute: ${userDataDir}`);
    return join(userDataDir, 'NativeMessagingHosts');
  }
  switch (platform()) {
    case 'linux': {
      const config = process.env.XDG_CONFIG_HOME || join(home, '.config');
      return join(config, browser === 'chrome' ? 'google-chrome' : 'chromium', 'NativeMessagingHosts');
    }
    case 'darwin': {
      const support = join(home, 'Library', 'Application Support');
      return join(support, browser === 'chrome' ? 'Google/Chrome' : 'Chromium', 'NativeMessagingHosts');
    }
    default:
      // Windows registers hosts in the registry (HKCU\Software\Google\Chrome\NativeMessagingHosts).
      throw new InstallError(
        'unsupported_platform',
        `registering the native host on ${platform()} is not supported yet`,
      );
  }
}

export interface HostManifest {
  name: string;
  description: string;
  path: string;
  type: 'stdio';
  allowed_origins: string[];
}

export function hostManifest(launcher: string): HostManifest {
  return {
    name: HOST_NAME,
    description: 'Briefcase: short-lived read-only console sessions for the Briefcase extension',
    path: launcher,
    type: 'stdio',
    allowed_origins: [EXTENSION_ORIGIN],
  };
}

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The host's launcher: absolute paths to this Node and the host's entry, and the data directory
 * baked in. A browser started from a desktop menu has neither the shell's PATH (which may not even
 * find Node 24) nor BRIEFCASE_HOME. The environment is not passed through beyond what the shell
 * script inherits from the browser; the host reads nothing from it but BRIEFCASE_HOME, set here.
 */
export function launcherScript(nodePath: string, home: string, entry = HOST_ENTRY): string {
  return [
    '#!/bin/sh',
    '# Written by `briefcase extension install`: the Briefcase native messaging host.',
    `BRIEFCASE_HOME=${shellQuote(home)}`,
    'export BRIEFCASE_HOME',
    `exec ${shellQuote(nodePath)} ${shellQuote(entry)} "$@"`,
    '',
  ].join('\n');
}

export interface InstallOptions {
  browser: Browser;
  userDataDir?: string | undefined;
  /** The Briefcase data directory the host serves. */
  home: string;
  nodePath?: string;
}

export interface InstallReport {
  browser: Browser;
  extension_id: string;
  extension_dir: string;
  host_name: string;
  manifest: string;
  launcher: string;
}

/** Writes the launcher (in the data directory) and the host manifest (where the browser looks). */
export function installNativeHost(o: InstallOptions): InstallReport {
  const dir = hostManifestDir(o.browser, o.userDataDir);
  const launcherDir = join(o.home, 'extension');
  const launcher = join(launcherDir, 'briefcase-native-host');
  mkdirSync(launcherDir, { recursive: true, mode: 0o700 });
  writeFileSync(launcher, launcherScript(o.nodePath ?? process.execPath, o.home), { mode: 0o700 });
  chmodSync(launcher, 0o700);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const manifest = join(dir, `${HOST_NAME}.json`);
  writeFileSync(manifest, `${JSON.stringify(hostManifest(launcher), null, 2)}\n`, { mode: 0o644 });
  return {
    browser: o.browser,
    extension_id: EXTENSION_ID,
    extension_dir: EXTENSION_DIR,
    host_name: HOST_NAME,
    manifest,
    launcher,
  };
}

/** Removes what installNativeHost wrote (the files it found). */
export function uninstallNativeHost(o: Omit<InstallOptions, 'nodePath'>): { removed: string[] } {
  const removed: string[] = [];
  for (const file of [
    join(hostManifestDir(o.browser, o.userDataDir), `${HOST_NAME}.json`),
    join(o.home, 'extension', 'briefcase-native-host'),
  ]) {
    if (existsSync(file)) {
      rmSync(file);
      removed.push(file);
    }
  }
  return { removed };
}
