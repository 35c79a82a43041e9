export {
  ReceiptLog,
  RECEIPTS_SCHEMA,
  readCheckpoints,
  type CheckpointSigner,
  type ReceiptLogOptions,
  type AppendedReceipt,
} from './receipt-log.ts';
export { readLogExport } from './read-log.ts';
export { ANCHOR_FORMAT, anchorText, readAnchor, type AnchorRead } from './anchor.ts';
export { checkLog, type LogCheck } from './check-log.ts';
