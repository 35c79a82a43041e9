/**
 * The payment-helper process (AC-6.1): holds the payment key (@briefcase/keys role `payment`,
 * software or PKCS#11) and signs only EIP-3009 transfers that a verifying grant authorizes.
 * Started by the daemon with an empty environment (but for a PKCS#11 module's own variables);
 * speaks JSON lines on stdin/stdout. First line: `{init: {home, masterKey, pin?, legacy?,
 * address, trust}}`. Then `{id, typed, authorization}` → `{id, signature}` or `{id, error}`.
 */
import { createInterface } from 'node:readline';
import { openPaymentSigner, type PaymentSigner } from '@briefcase/keys';
import { bytesToHex, hashTypedData, hexToBytes, type Hex } from 'viem';
import type { PaymentAuthorization } from '../backend.ts';
import { PaymentError } from '../errors.ts';
import { checkGrantAuthorizes } from '../grant-authorizes.ts';
import { checkTransferAuthorization, type TypedDataRequest } from '../x402/authorize.ts';

interface Init {
  home: string;
  masterKey: string;
  pin?: string;
  /** The pre-role wallet file's sealed key (payments/evm-wallet.json), while it is still used. */
  legacy?: { sealed: { nonce: string; ct: string; tag: string }; aad: string };
  address: string;
  trust: { issuers: string[]; gateway: string };
}

let signer: PaymentSigner | undefined;
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
    try {
      const { home, masterKey, pin, legacy } = msg.init;
      signer = openPaymentSigner(home, Buffer.from(masterKey, 'base64'), pin, legacy);
      trust = msg.init.trust;
      send({ ready: signer.address === msg.init.address.toLowerCase() ? signer.address : null });
    } catch (e) {
      send({ ready: null, detail: (e as Error).message.slice(0, 300) });
    }
    continue;
  }
  const id = msg.id;
  try {
    if (!signer || !trust || !msg.typed || !msg.authorization) throw new PaymentError('signing_refused', 'not ready');
    const now = Date.now();
    checkGrantAuthorizes(msg.authorization, { ...trust, now });
    checkTransferAuthorization(msg.typed, msg.authorization, signer.address as Hex, now);
    const digest = hashTypedData(msg.typed as Parameters<typeof hashTypedData>[0]);
    const sig = await signer.signDigest(hexToBytes(digest));
    // Ethereum's 65-byte form: r ‖ s ‖ v with v = 27 + recovery id (s is already low).
    const rsv = new Uint8Array(65);
    rsv.set(sig.subarray(0, 64));
    rsv[64] = 27 + sig[64]!;
    send({ id, signature: bytesToHex(rsv) });
  } catch (e) {
    send({
      id,
      error: e instanceof PaymentError ? e.reason : 'signing_refused',
      detail: (e as Error).message.slice(0, 300),
    });
  }
}
