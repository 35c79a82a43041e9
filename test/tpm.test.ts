import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, sleep } from './helpers.ts';
import { describePkcs11Token } from './pkcs11-suite.ts';

const MODULE = '/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so';
const TOOLS = ['swtpm', 'tpm2-abrmd', 'tpm2_ptool', 'dbus-daemon'];
const absent = [...TOOLS.filter((t) => spawnSync('which', [t]).status !== 0), ...(existsSync(MODULE) ? [] : [MODULE])];

/**
 * The TPM behind PKCS#11: a software TPM (swtpm) on loopback ports, the tpm2-abrmd resource
 * manager on a private D-Bus session bus, and tpm2-pkcs11 with a token store in a temp dir.
 * Keys made this way are created by the TPM (fixedTPM, fixedParent) and only wrapped blobs
 * leave it.
 */
describePkcs11Token(
  'PKCS#11 receipts key on a TPM 2.0 (swtpm + tpm2-pkcs11; key-custody AC 2)',
  MODULE,
  absent.length
    ? `needs the Debian packages swtpm, tpm2-abrmd, libtpm2-pkcs11-1, libtpm2-pkcs11-tools, libtss2-tcti-tabrmd0, libtss2-tcti-swtpm0 and dbus (missing: ${absent.join(', ')}); .ci/run installs them`
    : false,
  async (home) => {
    const dir = join(home, '..', 'tpm');
    mkdirSync(join(dir, 'state'), { recursive: true });
    mkdirSync(join(dir, 'store'), { recursive: true });
    // The swtpm TCTI expects the control port right after the command port.
    const server = await freePort();
    const ctrl = server + 1;
    const processes: ChildProcess[] = [];
    const swtpm = spawn(
      'swtpm',
      [
        'socket',
        '--tpm2',
        '--tpmstate',
        `dir=${join(dir, 'state')}`,
        '--server',
        `type=tcp,port=${server},bindaddr=127.0.0.1`,
        '--ctrl',
        `type=tcp,port=${ctrl},bindaddr=127.0.0.1`,
        '--flags',
        'not-need-init,startup-clear',
      ],
      { stdio: 'ignore' },
    );
    processes.push(swtpm);
    const dbus = spawnSync('dbus-daemon', ['--session', '--print-address=1', '--print-pid=1', '--fork'], {
      encoding: 'utf8',
    });
    const [address = '', pid = ''] = dbus.stdout.trim().split('\n');
    const env = {
      DBUS_SESSION_BUS_ADDRESS: address,
      TPM2_PKCS11_TCTI: 'tabrmd:bus_type=session',
      TPM2TOOLS_TCTI: 'tabrmd:bus_type=session',
      TPM2_PKCS11_STORE: join(dir, 'store'),
      BRIEFCASE_PKCS11_PIN: '4711-briefcase',
    };
    await sleep(300);
    const abrmd = spawn('tpm2-abrmd', ['--session', '--allow-root', `--tcti=swtpm:host=127.0.0.1,port=${server}`], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let abrmdErr = '';
    abrmd.stderr?.on('data', (c) => (abrmdErr += c));
    abrmd.once('exit', (code) => {
      if (code) process.stderr.write(`tpm2-abrmd exited ${code}: ${abrmdErr}\n`);
    });
    processes.push(abrmd);
    const teardown = () => {
      for (const p of processes) p.kill();
      if (pid) spawnSync('kill', [pid]);
    };
    const ptool = (args: string[]) =>
      spawnSync('tpm2_ptool', [...args, `--path=${env.TPM2_PKCS11_STORE}`], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
    for (let i = 0; i < 50; i++) {
      if (ptool(['init']).status === 0) break;
      await sleep(100);
    }
    const token = ptool([
      'addtoken',
      '--pid=1',
      '--label=briefcase',
      `--userpin=${env.BRIEFCASE_PKCS11_PIN}`,
      '--sopin=12345678',
    ]);
    if (token.status !== 0) {
      teardown();
      throw new Error(`tpm2_ptool addtoken failed: ${token.stderr}`);
    }
    return { env, teardown };
  },
);
