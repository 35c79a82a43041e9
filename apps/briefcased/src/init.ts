import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_ROLES, SoftwareSigner, type KeyRole } from '@briefcase/keys';
import { DEFAULT_POLICY } from '@briefcase/policy';
import {
  createMasterKey,
  masterKeyExists,
  Secret,
  Vault,
  writeFileAtomic,
  type MasterKeyChoice,
  type MasterKeySource,
} from '@briefcase/vault';
import { defaultConfig } from './config.ts';
import { DEMO_API_SECRET, demoConnectorManifest } from './demo/demo-api.ts';
import { dataPaths } from './paths.ts';
import { ensureToken } from './tokens.ts';
import { noKeychainWarning, softwareKeysWarning, type Warning } from './key-warnings.ts';

export { noKeychainWarning, softwareKeysWarning, type Warning };

export interface InitOptions {
  demo?: boolean;
  /** Rewrite config.json, policy.cedar and the demo connector to defaults. Never keys, tokens, vault or receipts. */
  force?: boolean;
  passphrase?: string | undefined;
  /** Where a new master key goes (`auto`: a given passphrase, else the OS keychain, else a file). Ignored once one exists. */
  masterKey?: MasterKeyChoice;
  demoPort?: number;
}

export interface InitReport {
  home: string;
  created: string[];
  kept: string[];
  warnings: { code: string; message: string }[];
  key_source: MasterKeySource;
}

export function isInitialised(home: string): boolean {
  const p = dataPaths(home);
  return existsSync(p.config) && existsSync(p.adminToken);
}

/** Create the data directory and everything in it. Idempotent; see InitOptions.force. */
export async function initDataDir(home: string, options: InitOptions = {}): Promise<InitReport> {
  const p = dataPaths(home);
  const created: string[] = [];
  const kept: string[] = [];
  const note = (path: string, made: boolean) => (made ? created : kept).push(path);

  if (!existsSync(home)) {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    created.push(home);
  } else if ((statSync(home).mode & 0o077) !== 0) {
    chmodSync(home, 0o700);
  }
  for (const dir of [p.logs, p.connectors]) {
    const made = !existsSync(dir);
    if (made) mkdirSync(dir, { recursive: true, mode: 0o700 });
    note(dir, made);
  }

  const hadKey = masterKeyExists(home) !== null;
  const master = await createMasterKey(home, {
    passphrase: options.passphrase,
    ...(options.masterKey ? { choice: options.masterKey } : {}),
  });
  note(join(home, MASTER_KEY_FILES[master.source]), !hadKey);

  for (const role of KEY_ROLES) note(join(home, 'keys', `${role}.json`), ensureKey(home, role, master.key));

  note(p.agentToken, ensureToken(p.agentToken, 'agent'));
  note(p.adminToken, ensureToken(p.adminToken, 'admin'));
  note(p.gatewayHttpToken, ensureToken(p.gatewayHttpToken, 'gw'));

  const writeIfNeeded = (path: string, content: string) => {
    const made = options.force === true || !existsSync(path);
    if (made) writeFileAtomic(path, content);
    note(path, made);
  };
  const config = defaultConfig(options.demo === true);
  if (options.demoPort !== undefined) config.demo.api_port = options.demoPort;
  writeIfNeeded(p.config, `${JSON.stringify(config, null, 2)}\n`);
  writeIfNeeded(p.policy, DEFAULT_POLICY);

  if (options.demo) {
    const vault = Vault.open(home, master.key);
    if (!vault.has(DEMO_API_SECRET)) {
      vault.set(
        DEMO_API_SECRET,
        new Secret(`demo_${randomBytes(24).toString('base64url')}`),
        'key for the local demo API',
      );
      created.push(`vault secret ${DEMO_API_SECRET}`);
    }
    writeIfNeeded(
      join(p.connectors, 'demo-weather.json'),
      `${JSON.stringify(demoConnectorManifest(config.demo.api_port), null, 2)}\n`,
    );
  }

  const warnings = [
    ...(master.keychainUnavailable ? [noKeychainWarning(master.keychainUnavailable, master.source)] : []),
    softwareKeysWarning(home, master.source),
  ].filter((w): w is Warning => w !== null);
  return { home, created, kept, warnings, key_source: master.source };
}

const MASTER_KEY_FILES: Record<MasterKeySource, string> = {
  keychain: 'master.keychain.json',
  passphrase: 'master.passphrase.json',
  key_file: 'master.key',
};

/** A software key for a role that has none yet; true if one was made. */
function ensureKey(home: string, role: KeyRole, masterKey: Uint8Array): boolean {
  if (existsSync(join(home, 'keys', `${role}.json`))) return false;
  SoftwareSigner.loadOrCreate(home, role, masterKey);
  return true;
}
