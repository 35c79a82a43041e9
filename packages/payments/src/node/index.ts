export { SqliteSpendLedger } from './sqlite-ledger.ts';
export { HelperSigner, type HelperInit } from './helper-signer.ts';
