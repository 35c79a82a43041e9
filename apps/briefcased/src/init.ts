import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_ROLES, readStoredKey, SoftwareSigner, type KeyRole } from '@briefcase/keys';
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
import { cli } from './cli-hint.ts';

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

export interface Warning {
  code: string;
  message: string;
}

const PROTECTED_BY: Record<MasterKeySource, string> = {
  keychain:
    'sealed under the vault master key, which is in the OS keychain: any program running as you while the keychain is unlocked can copy them',
  passphrase:
    'sealed under a passphrase-derived master key: anyone with the passphrase and the data directory can copy them',
  key_file:
    'sealed under a master key kept in a file: anyone who can read the data directory can copy the master key and with it these keys',
};

/**
 * Said by `npm start`, `init` and `doctor` (stable code `software_keys`) while any role's key is
 * in software: such a key is encrypted at rest but exportable (docs/keys.md).
 */
export function softwareKeysWarning(home: string, source?: MasterKeySource | null): Warning | null {
  const roles = KEY_ROLES.filter((r) => {
    try {
      return readStoredKey(home, r).backend === 'software';
    } catch {
      return false;
    }
  });
  const from = source ?? masterKeyExists(home);
  if (roles.length === 0 || !from) return null;
  return {
    code: 'software_keys',
    message: `software keys (${roles.join(', ')}): ${PROTECTED_BY[from]}. Put them on a token with \`${cli('keys', 'create', '--backend', 'pkcs11')}\` (see docs/keys.md)`,
  };
}

/** Said when `auto` wanted the OS keychain and found none (stable code `no_keychain`). */
export function noKeychainWarning(reason: string, source: MasterKeySource): Warning {
  return {
    code: 'no_keychain',
    message: `no OS keychain answered (${reason}); the vault master key is ${source === 'passphrase' ? 'derived from BRIEFCASE_PASSPHRASE' : 'in a file in the data directory'} instead. Once a keychain is available: \`${cli('keys', 'move-master', '--to', 'keychain')}\``,
  };
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
