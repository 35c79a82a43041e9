export { SqliteSpendLedger } from './sqlite-ledger.ts';
export { HelperSigner, moduleEnvironment, type HelperInit } from './helper-signer.ts';
