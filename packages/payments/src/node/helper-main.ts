/**
 * The payment-helper process (AC-6.1): holds the wallet key and signs only EIP-3009 transfers
 * that a verifying grant authorizes. Started by the daemon with an empty environment; speaks
 * JSON lines on stdin/stdout. First line: `{init: {masterKey, sealed, address, aad, trust}}`.
 * Then `{id, typed, authorization}` → `{id, signature}` or `{id, error}`.
 */
import { createInterface } from 'node:readline';
import { open } from '@briefcase/vault';
import { privateKeyToAccount } from 'viem/accounts';
import type { Hex } from 'viem';
import type { PaymentAuthorization } from '../backend.ts';
import { PaymentError } from '../errors.ts';
import { checkGrantAuthorizes } from '../grant-authorizes.ts';
import { checkTransferAuthorization, type TypedDataRequest } from '../x402/authorize.ts';

interface Init {
  masterKey: string;
  sealed: { nonce: string; ct: string; tag: string };
  address: string;
  aad: string;
  trust: { issuers: string[]; gateway: string };
}

let account: ReturnType<typeof privateKeyToAccount> | undefined;
let trust: Init['trust'] | undefined;
const send = (m: unknown) => process.stdout.write(`${JSON.stringify(m)}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  let msg: { init?: Init; id?: number; typed?: TypedDataRequest; authorization?: PaymentAuthorization };
  try {
    msg = JSON.parse(line) as typeof msg;
  } catch {
    continue;
  }
  if (msg.init) {
    const key = open(Buffer.from(msg.init.masterKey, 'base64'), msg.init.sealed, msg.init.aad).toString('hex');
    account = privateKeyToAccount(`0x${key}` as Hex);
    trust = msg.init.trust;
    send({ ready: account.address.toLowerCase() === msg.init.address ? account.address : null });
    continue;
  }
  const id = msg.id;
  try {
    if (!account || !trust || !msg.typed || !msg.authorization) throw new PaymentError('signing_refused', 'not ready');
    const now = Date.now();
    checkGrantAuthorizes(msg.authorization, { ...trust, now });
    checkTransferAuthorization(msg.typed, msg.authorization, account.address, now);
    const signature = await account.signTypedData(msg.typed as Parameters<typeof account.signTypedData>[0]);
    send({ id, signature });
  } catch (e) {
    send({
      id,
      error: e instanceof PaymentError ? e.reason : 'signing_refused',
      detail: (e as Error).message.slice(0, 300),
    });
  }
}
