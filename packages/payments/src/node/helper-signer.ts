import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Hex } from 'viem';
import { PaymentError } from '../errors.ts';
import type { X402Signer } from '../x402/signer.ts';

export interface HelperInit {
  /** The data dir whose keys/payment.json the helper opens. */
  home: string;
  masterKey: Uint8Array;
  /** A PKCS#11 payment key's token PIN (resolved by the daemon as for its own keys). */
  pin?: string | undefined;
  /** The pre-role wallet file's sealed key, used while no payment key exists. */
  legacy?: { sealed: { nonce: string; ct: string; tag: string }; aad: string } | undefined;
  address: string;
  /** A PKCS#11 module's own variables (SOFTHSM2_CONF, TPM2_PKCS11_*), nothing else. */
  env?: Record<string, string>;
  trust: () => { issuers: string[]; gateway: string };
}

/** The variables a PKCS#11 module reads to find its token store; the helper gets only these. */
export function moduleEnvironment(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(from)) {
    if (v !== undefined && /^(SOFTHSM2_CONF|TPM2_PKCS11_[A-Z_]+|TSS2_[A-Z_]+)$/.test(k)) env[k] = v;
  }
  return env;
}

/**
 * An X402Signer that asks the payment-helper process (helper-main.ts) for every signature. The
 * helper is spawned on first use with an empty environment (a PKCS#11 module's own variables
 * aside); the master key and a token PIN go over its stdin once, and it opens the payment key
 * itself. A refusal comes back as PaymentError('signing_refused').
 */
export class HelperSigner implements X402Signer {
  readonly address: Hex;
  readonly #init: HelperInit;
  #proc: ChildProcessWithoutNullStreams | undefined;
  #ready: Promise<void> | undefined;
  #next = 1;
  readonly #waiting = new Map<number, (m: { signature?: Hex; error?: string; detail?: string }) => void>();

  constructor(init: HelperInit) {
    this.#init = init;
    this.address = init.address as Hex;
  }

  /** The helper's process id (tests check it is not the daemon's). */
  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  async signTransfer(
    typed: Parameters<X402Signer['signTransfer']>[0],
    authorization: Parameters<X402Signer['signTransfer']>[1],
  ) {
    await this.#start();
    const id = this.#next++;
    const answer = await new Promise<{ signature?: Hex; error?: string; detail?: string }>((res) => {
      this.#waiting.set(id, res);
      this.#proc!.stdin.write(`${JSON.stringify({ id, typed: bigintSafe(typed), authorization })}\n`);
    });
    if (!answer.signature)
      throw new PaymentError('signing_refused', `payment-helper: ${answer.detail ?? answer.error ?? 'refused'}`);
    return answer.signature;
  }

  close(): void {
    this.#proc?.kill();
    this.#proc = undefined;
    this.#ready = undefined;
  }

  #start(): Promise<void> {
    if (this.#ready) return this.#ready;
    const proc = spawn(process.execPath, [join(import.meta.dirname, 'helper-main.ts')], {
      env: { ...this.#init.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#proc = proc;
    proc.stderr.resume();
    const lines = createInterface({ input: proc.stdout });
    this.#ready = new Promise<void>((res, rej) => {
      proc.once('exit', () => {
        for (const w of this.#waiting.values()) w({ error: 'signing_refused', detail: 'the payment-helper exited' });
        this.#waiting.clear();
        this.#ready = undefined;
        rej(new PaymentError('signing_refused', 'the payment-helper exited'));
      });
      lines.on('line', (line) => {
        const m = JSON.parse(line) as {
          ready?: string | null;
          id?: number;
          signature?: Hex;
          error?: string;
          detail?: string;
        };
        if ('ready' in m) {
          if (m.ready) res();
          else {
            this.close();
            rej(
              new PaymentError(
                'signing_refused',
                `the payment-helper could not open the payment key: ${m.detail ?? 'another address'}`,
              ),
            );
          }
          return;
        }
        const w = this.#waiting.get(m.id ?? -1);
        this.#waiting.delete(m.id ?? -1);
        w?.(m);
      });
    });
    const { home, masterKey, pin, legacy, address } = this.#init;
    const init = { home, masterKey: Buffer.from(masterKey).toString('base64'), pin, legacy, address };
    proc.stdin.write(`${JSON.stringify({ init: { ...init, trust: this.#init.trust() } })}\n`);
    return this.#ready;
  }
}

/** EIP-712 messages carry bigints; JSON does not. */
function bigintSafe(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}
