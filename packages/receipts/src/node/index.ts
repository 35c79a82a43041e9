export {
  ReceiptLog,
  RECEIPTS_SCHEMA,
  type CheckpointSigner,
  type ReceiptLogOptions,
  type AppendedReceipt,
} from './receipt-log.ts';
export { readLogExport } from './read-log.ts';
