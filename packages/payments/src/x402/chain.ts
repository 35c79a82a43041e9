import { createPublicClient, http, parseAbi, parseEventLogs, type Hex, type PublicClient } from 'viem';
import type { PendingPayment, Settlement } from '../backend.ts';

const EIP3009_ABI = parseAbi([
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  'event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)',
  'function authorizationState(address authorizer, bytes32 nonce) view returns (bool)',
]);

/** What identifies one EIP-3009 authorization: PaymentProof.ref is `<from>:<nonce>:<validBefore>`. */
export interface AuthorizationRef {
  from: Hex;
  nonce: Hex;
  validBefore: bigint;
}

export function formatRef(r: AuthorizationRef): string {
  return `${r.from.toLowerCase()}:${r.nonce.toLowerCase()}:${r.validBefore}`;
}

export function parseRef(ref: string): AuthorizationRef {
  const m = /^(0x[0-9a-f]{40}):(0x[0-9a-f]{64}):([0-9]{1,20})$/.exec(ref);
  if (!m) throw new TypeError('not an x402 payment reference');
  return { from: m[1] as Hex, nonce: m[2] as Hex, validBefore: BigInt(m[3]!) };
}

export function chainClient(rpcUrl: string): PublicClient {
  return createPublicClient({ transport: http(rpcUrl, { retryCount: 0, timeout: 15_000 }) });
}

type Expected = Pick<PendingPayment, 'network' | 'asset' | 'payee' | 'amount' | 'rail'>;

/**
 * The settlement as the chain tells it, never as the server or its facilitator claims it: the
 * transaction exists and succeeded, and the token contract itself logged both our
 * authorization's use (AuthorizationUsed(from, nonce)) and a Transfer of the amount from the
 * payer to the payee. `claimedTx` is the facilitator's word and only a hint: when it is missing
 * or wrong, the nonce's state on chain decides (a used nonce is found through its log).
 */
export async function settlementOnChain(
  client: PublicClient,
  expected: Expected,
  ref: AuthorizationRef,
  claimedTx: Hex | undefined,
  now: number,
): Promise<Settlement> {
  const base = { rail: expected.rail, network: expected.network, asset: expected.asset, payee: expected.payee };
  const chainId = await client.getChainId();
  if (`eip155:${chainId}` !== expected.network) {
    return { ...base, status: 'unknown', amount: '0', note: `the RPC serves eip155:${chainId}` };
  }
  if (claimedTx && /^0x[0-9a-fA-F]{64}$/.test(claimedTx)) {
    const found = await fromTransaction(client, expected, ref, claimedTx);
    if (found) return { ...base, status: 'settled', amount: found.amount, txRef: claimedTx.toLowerCase() };
  }
  const used = await client.readContract({
    address: expected.asset as Hex,
    abi: EIP3009_ABI,
    functionName: 'authorizationState',
    args: [ref.from, ref.nonce],
  });
  if (used) {
    const logs = await client.getContractEvents({
      address: expected.asset as Hex,
      abi: EIP3009_ABI,
      eventName: 'AuthorizationUsed',
      args: { authorizer: ref.from, nonce: ref.nonce },
      fromBlock: 0n,
    });
    for (const log of logs) {
      const found = await fromTransaction(client, expected, ref, log.transactionHash);
      if (found) return { ...base, status: 'settled', amount: found.amount, txRef: log.transactionHash.toLowerCase() };
    }
    return { ...base, status: 'unknown', amount: '0', note: 'the authorization was used, but not as authorized' };
  }
  // Unused: the server may still submit it until validBefore, so it stays counted until then.
  const live = ref.validBefore * 1000n > BigInt(now);
  const note = claimedTx ? 'the claimed settlement transaction is not on chain' : 'no settlement on chain';
  return { ...base, status: live ? 'unknown' : 'not_settled', amount: '0', note };
}

async function fromTransaction(
  client: PublicClient,
  expected: Expected,
  ref: AuthorizationRef,
  hash: Hex,
): Promise<{ amount: string } | null> {
  let receipt;
  try {
    receipt = await client.getTransactionReceipt({ hash });
  } catch {
    return null; // not on chain
  }
  if (receipt.status !== 'success') return null;
  const logs = parseEventLogs({ abi: EIP3009_ABI, logs: receipt.logs }).filter(
    (l) => l.address.toLowerCase() === expected.asset,
  );
  const used = logs.some(
    (l) =>
      l.eventName === 'AuthorizationUsed' &&
      l.args.authorizer.toLowerCase() === ref.from.toLowerCase() &&
      l.args.nonce.toLowerCase() === ref.nonce.toLowerCase(),
  );
  const transfer = logs.find(
    (l) =>
      l.eventName === 'Transfer' &&
      l.args.from.toLowerCase() === ref.from.toLowerCase() &&
      l.args.to.toLowerCase() === expected.payee,
  );
  if (!used || !transfer || transfer.eventName !== 'Transfer') return null;
  if (transfer.args.value > BigInt(expected.amount)) return null; // more than authorized: never "settled as asked"
  return { amount: transfer.args.value.toString(10) };
}
