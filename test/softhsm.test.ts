import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describePkcs11Token } from './pkcs11-suite.ts';

const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const missing = !existsSync(MODULE) || spawnSync('softhsm2-util', ['--version']).status !== 0;

describePkcs11Token(
  'PKCS#11 receipts key on SoftHSM (key-custody AC 1)',
  MODULE,
  missing ? `needs the Debian package softhsm2 (${MODULE} and softhsm2-util); .ci/run installs it` : false,
  async (home) => {
    const tokens = join(home, '..', 'softhsm-tokens');
    mkdirSync(tokens, { recursive: true });
    const env = { SOFTHSM2_CONF: join(home, '..', 'softhsm2.conf'), BRIEFCASE_PKCS11_PIN: '4711-briefcase' };
    writeFileSync(
      env.SOFTHSM2_CONF,
      `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`,
    );
    const init = spawnSync(
      'softhsm2-util',
      ['--init-token', '--free', '--label', 'briefcase', '--pin', env.BRIEFCASE_PKCS11_PIN, '--so-pin', '12345678'],
      { env: { ...process.env, ...env }, encoding: 'utf8' },
    );
    if (init.status !== 0) throw new Error(`softhsm2-util --init-token failed: ${init.stderr}`);
    return { env, teardown: () => {} };
  },
);
