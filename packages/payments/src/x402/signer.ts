import { privateKeyToAccount } from 'viem/accounts';
import type { Hex } from 'viem';
import type { PaymentAuthorization } from '../backend.ts';
import { checkTransferAuthorization, type TypedDataRequest } from './authorize.ts';

/**
 * Who signs EIP-3009 authorizations: in production the payment-helper process (the key never
 * enters the daemon); `localX402Signer` is the same check and signature in-process.
 */
export interface X402Signer {
  readonly address: Hex;
  signTransfer(typed: TypedDataRequest, authorization: PaymentAuthorization): Promise<Hex>;
}

/** An in-process signer over a raw secp256k1 key (viem signs low-S, RFC 6979). */
export function localX402Signer(privateKey: Hex, now: () => number = Date.now): X402Signer {
  const account = privateKeyToAccount(privateKey);
  return {
    address: account.address,
    async signTransfer(typed, authorization) {
      checkTransferAuthorization(typed, authorization, account.address, now());
      return account.signTypedData(typed as Parameters<typeof account.signTypedData>[0]);
    },
  };
}
