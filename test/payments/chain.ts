import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createPublicClient, createWalletClient, http, parseAbi, publicActions, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { freePort, ROOT, sleep } from '../helpers.ts';

/**
 * A real EVM for the x402 tests: anvil from @foundry-rs/anvil (its linux binary ships in the
 * optional dependency @foundry-rs/anvil-linux-amd64), on loopback and a free port, and the
 * EIP-3009 token in Eip3009Token.sol compiled by solc (npm, WASM) and deployed by the test.
 */
export const ANVIL_BIN = join(ROOT, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');

/** anvil's first standard dev key (mnemonic "test test … junk"): public test material, no secret. */
export const DEV_KEY_0: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

export const TOKEN_ABI = parseAbi([
  'function balanceOf(address) view returns (uint256)',
  'function transfer(address to, uint256 value) returns (bool)',
  'function name() view returns (string)',
]);

export interface Chain {
  rpcUrl: string;
  chainId: number;
  network: string;
  token: Hex;
  tokenName: string;
  /** Pays gas for settlement (the facilitator's key). */
  facilitatorKey: Hex;
  balanceOf(address: string): Promise<bigint>;
  stop(): Promise<void>;
}

export function anvilSkipReason(): string | undefined {
  return existsSync(ANVIL_BIN) ? undefined : 'anvil is missing: npm install (@foundry-rs/anvil-linux-amd64)';
}

export async function startChain(holder: Hex): Promise<Chain> {
  const port = await freePort();
  const proc = spawn(ANVIL_BIN, ['--host', '127.0.0.1', '--port', String(port), '--silent'], {
    env: { PATH: '/usr/bin:/bin' },
    stdio: 'ignore',
  });
  const rpcUrl = `http://127.0.0.1:${port}`;
  const client = createPublicClient({ transport: http(rpcUrl) });
  let chainId = 0;
  for (let i = 0; i < 600 && !chainId; i++) {
    chainId = await client.getChainId().catch(() => 0);
    if (!chainId) await sleep(100);
  }
  if (!chainId) throw new Error('anvil did not answer within 60 s');
  const facilitatorKey = DEV_KEY_0;
  const deployer = createWalletClient({ account: privateKeyToAccount(facilitatorKey), transport: http(rpcUrl) }).extend(
    publicActions,
  );
  const { abi, bytecode } = compileToken();
  const tokenName = 'Test USD';
  const hash = await deployer.deployContract({
    abi,
    bytecode,
    args: [tokenName, holder, 1_000_000_000n],
    chain: null,
  });
  const receipt = await deployer.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  const token = receipt.contractAddress!;
  return {
    rpcUrl,
    chainId,
    network: `eip155:${chainId}`,
    token,
    tokenName,
    facilitatorKey,
    balanceOf: (address) =>
      client.readContract({ address: token, abi: TOKEN_ABI, functionName: 'balanceOf', args: [address as Hex] }),
    stop: () => stopProcess(proc),
  };
}

let compiled: { abi: unknown[]; bytecode: Hex } | undefined;

function compileToken(): { abi: unknown[]; bytecode: Hex } {
  if (compiled) return compiled;
  const solc = createRequire(import.meta.url)('solc') as { compile(input: string): string };
  const source = readFileSync(join(import.meta.dirname, 'Eip3009Token.sol'), 'utf8');
  const out = JSON.parse(
    solc.compile(
      JSON.stringify({
        language: 'Solidity',
        sources: { 'Eip3009Token.sol': { content: source } },
        settings: {
          optimizer: { enabled: true, runs: 200 },
          outputSelection: { '*': { '*': ['abi', 'evm.bytecode'] } },
        },
      }),
    ),
  ) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join('\n'));
  const c = out.contracts['Eip3009Token.sol']!['Eip3009Token']!;
  compiled = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
  return compiled;
}

function stopProcess(proc: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (proc.exitCode !== null) return res();
    proc.once('exit', () => res());
    proc.kill('SIGTERM');
  });
}
