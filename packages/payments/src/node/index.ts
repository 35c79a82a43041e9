export { SqliteSpendLedger } from './sqlite-ledger.ts';
