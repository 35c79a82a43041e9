import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SoftwareSigner } from '@briefcase/keys';
import { DEFAULT_POLICY } from '@briefcase/policy';
import { createMasterKey, Secret, Vault, writeFileAtomic } from '@briefcase/vault';
import { defaultConfig } from './config.ts';
import { DEMO_API_SECRET, demoConnectorManifest } from './demo/demo-api.ts';
import { dataPaths } from './paths.ts';
import { ensureToken } from './tokens.ts';

export interface InitOptions {
  demo?: boolean;
  /** Rewrite config.json, policy.cedar and the demo connector to defaults. Never keys, tokens, vault or receipts. */
  force?: boolean;
  passphrase?: string | undefined;
  demoPort?: number;
}

export interface InitReport {
  home: string;
  created: string[];
  kept: string[];
  warnings: { code: string; message: string }[];
  key_source: 'passphrase' | 'key_file';
}

/** Said by `npm start`, `init` and `doctor` until hardware-backed keys arrive (key-custody issue). */
export function softwareKeysWarning(source: 'passphrase' | 'key_file'): { code: string; message: string } {
  return source === 'key_file'
    ? {
        code: 'software_keys',
        message:
          'software keys, protected by a file: anyone who can read the data directory can copy the vault master key and the receipt-signing key (see docs/security.md)',
      }
    : {
        code: 'software_keys',
        message:
          'software keys, protected by a passphrase: keys are encrypted at rest, but anyone with the passphrase and the data directory can copy them (see docs/security.md)',
      };
}

export function isInitialised(home: string): boolean {
  const p = dataPaths(home);
  return existsSync(p.config) && existsSync(p.adminToken);
}

/** Create the data directory and everything in it. Idempotent; see InitOptions.force. */
export function initDataDir(home: string, options: InitOptions = {}): InitReport {
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

  const hadKey = existsSync(join(home, 'master.key')) || existsSync(join(home, 'master.passphrase.json'));
  const master = createMasterKey(home, options.passphrase);
  note(master.source === 'key_file' ? join(home, 'master.key') : join(home, 'master.passphrase.json'), !hadKey);

  const hadReceiptsKey = existsSync(join(home, 'keys', 'receipts.json'));
  SoftwareSigner.loadOrCreate(home, 'receipts', master.key);
  note(join(home, 'keys', 'receipts.json'), !hadReceiptsKey);

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

  return {
    home,
    created,
    kept,
    warnings: [softwareKeysWarning(master.source)],
    key_source: master.source,
  };
}
