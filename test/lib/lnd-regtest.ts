/**
 * A real two-node Lightning regtest for the L402 tests: btcd (regtest, TLS RPC) and two lnd,
 * `alice` (the payer: the Briefcase's node) and `bob` (the payee: the paid API's node), on random
 * loopback ports in a temp dir. These are test peers, not product code: the binaries are built
 * once by scripts/test-peers/build-lnd.sh into the user's cache (recipe and gotchas:
 * ../shared/reference/RECIPES.md §5). Everything started here is stopped by `stop()`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from '../helpers.ts';
import { restCall } from './lnd-rest.ts';

export const LND_VERSION = 'v0.19.3-beta';
export const BTCD_VERSION = 'v0.24.2';
export const BUILD_SCRIPT = 'scripts/test-peers/build-lnd.sh';

const cacheRoot = join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'briefcase', 'test-peers');
const BIN = {
  btcd: join(cacheRoot, `btcd-${BTCD_VERSION}`, 'btcd'),
  btcctl: join(cacheRoot, `btcd-${BTCD_VERSION}`, 'btcctl'),
  lnd: join(cacheRoot, `lnd-${LND_VERSION}`, 'lnd'),
  lncli: join(cacheRoot, `lnd-${LND_VERSION}`, 'lncli'),
};

/** `false` when the test peers are built, else the skip message (never skip silently). */
export function regtestSkip(): false | string {
  const missing = Object.values(BIN).filter((p) => !existsSync(p));
  if (missing.length === 0) return false;
  return `the Lightning test peers are not built (missing ${missing.join(', ')}): run ${BUILD_SCRIPT} (~15 min, Go from the module proxy)`;
}

/** Spawned peers get this environment and nothing of ours (never pass the environment through). */
const childEnv = (home: string) => ({ HOME: home, PATH: '/usr/bin:/bin' });

export interface LndNode {
  readonly name: string;
  readonly dir: string;
  /** `https://127.0.0.1:<port>` of lnd's REST gateway. */
  readonly restUrl: string;
  readonly tlsCertPem: string;
  pubkey: string;
  p2pAddress: string;
  macaroonHex(name?: string): string;
  /** `lncli <args>` against this node, parsed as JSON. */
  cli<T = Record<string, unknown>>(...args: string[]): Promise<T>;
  /** `lncli <args>`, its output as text (e.g. `bakemacaroon` prints bare hex). */
  cliText(...args: string[]): Promise<string>;
  /** A REST call with the admin macaroon. */
  rest<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
}

export interface Regtest {
  alice: LndNode;
  bob: LndNode;
  /** Mine `n` blocks to alice's address. */
  mine(n: number): Promise<void>;
  stop(): Promise<void>;
  /** The tail of every peer's log (for a failing test's message). */
  logs(): string;
}

interface Proc {
  name: string;
  proc: ChildProcess;
  log: string;
}

const RPC_USER = 'briefcase';
const RPC_PASS = 'regtest-only';

function run(bin: string, args: string[], home: string): Promise<string> {
  return new Promise((res, rej) => {
    execFile(bin, args, { env: childEnv(home), timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${bin.split('/').pop()} ${args.slice(-3).join(' ')}: ${stderr || err.message}`));
      else res(stdout);
    });
  });
}

/** Poll `check` until it returns a value (not undefined), within a generous bound. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(250);
  }
}

/** Start btcd + alice + bob, fund alice, open a 1 000 000 sat channel alice → bob, wait until active. */
export async function startRegtest(): Promise<Regtest> {
  const skip = regtestSkip();
  if (skip) throw new Error(skip);
  const base = mkdtempSync(join(tmpdir(), 'bc-ln-'));
  const procs: Proc[] = [];
  const launch = (log: string, bin: string, args: string[]) =>
    spawn(bin, args, { env: childEnv(base), stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')] });
  const start = (name: string, bin: string, args: string[]): Proc => {
    const log = join(base, `${name}.log`);
    const p = { name, proc: launch(log, bin, args), log };
    procs.push(p);
    return p;
  };
  /** Stop and start an lnd again on the same directory and ports (its wallet has no password). */
  const relaunch = new Map<string, () => Promise<void>>();
  const stopProc = async (p: Proc) => {
    if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
    const exited = new Promise((r) => p.proc.once('exit', r));
    p.proc.kill('SIGTERM');
    const killed = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
    if (!killed) {
      p.proc.kill('SIGKILL');
      await exited;
    }
  };
  const logs = () =>
    procs
      .map((p) => {
        const text = existsSync(p.log) ? readFileSync(p.log, 'utf8') : '';
        return `--- ${p.name} (${p.log})\n${text.split('\n').slice(-15).join('\n')}`;
      })
      .join('\n');
  const stop = async () => {
    await Promise.all([...procs].reverse().map(stopProc));
    if (!process.env['BC_KEEP_REGTEST']) rmSync(base, { recursive: true, force: true });
  };

  try {
    const btcdDir = join(base, 'btcd');
    mkdirSync(btcdDir);
    const rpcPort = await freePort();
    const btcdP2p = await freePort();
    const rpcCert = join(btcdDir, 'rpc.cert');
    // btcd writes a self-signed RPC certificate (for localhost and 127.0.0.1) when none exists;
    // lnd refuses a btcd whose certificate it was not given.
    const btcdArgs = [
      '--regtest',
      `--datadir=${join(btcdDir, 'data')}`,
      `--logdir=${join(btcdDir, 'logs')}`,
      `--rpcuser=${RPC_USER}`,
      `--rpcpass=${RPC_PASS}`,
      `--rpclisten=127.0.0.1:${rpcPort}`,
      `--listen=127.0.0.1:${btcdP2p}`,
      `--rpccert=${rpcCert}`,
      `--rpckey=${join(btcdDir, 'rpc.key')}`,
      '--txindex',
      '--nobanning',
    ];
    const btcctl = (...args: string[]) =>
      run(
        BIN.btcctl,
        [
          '--regtest',
          `--rpcuser=${RPC_USER}`,
          `--rpcpass=${RPC_PASS}`,
          `--rpcserver=127.0.0.1:${rpcPort}`,
          `--rpccert=${rpcCert}`,
          ...args,
        ],
        base,
      );
    let btcd = start('btcd', BIN.btcd, btcdArgs);
    await waitFor('btcd RPC', async () => (await btcctl('getblockcount')).trim() || undefined);

    const node = async (name: string): Promise<LndNode> => {
      const dir = join(base, name);
      const [rpc, rest, p2p] = [await freePort(), await freePort(), await freePort()];
      const lndArgs = [
        `--lnddir=${dir}`,
        '--noseedbackup',
        '--bitcoin.regtest',
        '--bitcoin.node=btcd',
        `--btcd.rpchost=127.0.0.1:${rpcPort}`,
        `--btcd.rpcuser=${RPC_USER}`,
        `--btcd.rpcpass=${RPC_PASS}`,
        `--btcd.rpccert=${rpcCert}`,
        `--rpclisten=127.0.0.1:${rpc}`,
        `--restlisten=127.0.0.1:${rest}`,
        `--listen=127.0.0.1:${p2p}`,
        '--nobootstrap',
        '--debuglevel=info',
        `--alias=${name}`,
        '--trickledelay=50',
      ];
      const proc = start(name, BIN.lnd, lndArgs);
      relaunch.set(name, async () => {
        await stopProc(proc);
        proc.proc = launch(proc.log, BIN.lnd, lndArgs);
      });
      const macDir = join(dir, 'data', 'chain', 'bitcoin', 'regtest');
      const cliText = (...args: string[]) =>
        run(BIN.lncli, [`--lnddir=${dir}`, '--network=regtest', `--rpcserver=127.0.0.1:${rpc}`, ...args], base);
      const lncli = <T>(...args: string[]) => cliText(...args).then((out) => JSON.parse(out) as T);
      // lnd's RPC is up before its server: the server waits for the chain backend to be current,
      // which btcd is only once blocks are mined (below).
      await waitFor(`${name} RPC_ACTIVE`, async () => {
        const s = await lncli<{ state: string }>('state');
        return s.state === 'RPC_ACTIVE' || s.state === 'SERVER_ACTIVE' ? true : undefined;
      });
      const tlsCertPem = readFileSync(join(dir, 'tls.cert'), 'utf8');
      const macaroonHex = (m = 'admin') => readFileSync(join(macDir, `${m}.macaroon`)).toString('hex');
      const restUrl = `https://127.0.0.1:${rest}`;
      const info = await lncli<{ identity_pubkey: string }>('getinfo');
      return {
        name,
        dir,
        restUrl,
        tlsCertPem,
        pubkey: info.identity_pubkey,
        p2pAddress: `127.0.0.1:${p2p}`,
        macaroonHex,
        cli: lncli,
        cliText,
        rest: (method, path, body) => restCall(restUrl, tlsCertPem, macaroonHex(), method, path, body),
      };
    };
    const [alice, bob] = await Promise.all([node('alice'), node('bob')]);

    // btcd has no generatetoaddress: restart it with alice's address as the mining address.
    const { address } = await alice.cli<{ address: string }>('newaddress', 'p2wkh');
    await stopProc(btcd);
    btcd = start('btcd', BIN.btcd, [...btcdArgs, `--miningaddr=${address}`]);
    await waitFor('btcd RPC after restart', async () => (await btcctl('getblockcount')).trim() || undefined);
    const mine = async (n: number) => {
      for (let left = n; left > 0; left -= 100) await btcctl('generate', String(Math.min(100, left)));
    };
    // Segwit activates only after ~432 blocks on btcd regtest; before that the funding tx is refused.
    await mine(500);
    // Not just getinfo: lnd answers RPCs before its server is active (RECIPES.md §5).
    // Now and then (seen in one fresh-clone CI run) an lnd's wallet stalls in its rescan after
    // btcd's restart ("Received unexpected reply: null") and never becomes active: start it again.
    const serverActive = async (n: LndNode) => {
      const active = (ms: number) =>
        waitFor(
          `${n.name} SERVER_ACTIVE`,
          async () => {
            const st = await n.cli<{ state: string }>('state');
            return st.state === 'SERVER_ACTIVE' ? true : undefined;
          },
          ms,
        );
      try {
        await active(60_000);
      } catch {
        await relaunch.get(n.name)!();
        await active(120_000);
      }
    };
    await Promise.all([serverActive(alice), serverActive(bob)]);
    // lnd reports synced_to_chain once it has seen a block after its server started: nudge.
    let lastNudge = 0;
    const synced = (n: LndNode) =>
      waitFor(`${n.name} synced to the chain`, async () => {
        const i = await n.cli<{ synced_to_chain: boolean }>('getinfo');
        if (i.synced_to_chain) return true;
        if (Date.now() - lastNudge > 5000) {
          lastNudge = Date.now();
          await mine(1);
        }
        return undefined;
      });
    await Promise.all([synced(alice), synced(bob)]);
    await waitFor('alice confirmed balance', async () => {
      const b = await alice.cli<{ confirmed_balance: string }>('walletbalance');
      return BigInt(b.confirmed_balance) > 2_000_000n ? true : undefined;
    });

    await waitFor('alice connected to bob', () =>
      alice.cli('connect', `${bob.pubkey}@${bob.p2pAddress}`).then(
        () => true,
        (e: Error) => (/already connected/.test(e.message) ? true : Promise.reject(e)),
      ),
    );
    await waitFor('channel opened', () =>
      alice.cli('openchannel', `--node_key=${bob.pubkey}`, '--local_amt=1000000').then(() => true),
    );
    await mine(6);
    const active = (n: LndNode) =>
      waitFor(`${n.name}'s channel active`, async () => {
        const c = await n.cli<{ channels: unknown[] }>('listchannels', '--active_only');
        return c.channels.length > 0 ? true : undefined;
      });
    await Promise.all([active(alice), active(bob)]);
    // "Active" is not yet "can carry an HTLC" (a fresh link reports no bandwidth for a moment):
    // one probe payment of 1 sat, retried until it succeeds. Tests count alice's payments from here.
    await waitFor('a first payment alice → bob', async () => {
      const inv = await bob.cli<{ payment_request: string }>('addinvoice', '--amt=1', '--memo=probe');
      const r = await alice.cli<{ status: string }>('payinvoice', '--force', '--json', inv.payment_request);
      return r.status === 'SUCCEEDED' ? true : undefined;
    });
    return { alice, bob, mine, stop, logs };
  } catch (e) {
    const text = logs();
    await stop();
    throw new Error(`${(e as Error).message}\n${text}`, { cause: e });
  }
}
