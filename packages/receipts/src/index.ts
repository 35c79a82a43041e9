export {
  RECEIPT_KINDS,
  GENESIS_PREV,
  RECORD_DOMAIN,
  CHECKPOINT_DOMAIN,
  CHECKPOINT_LINK_DOMAIN,
  recordHash,
  receiptId,
  checkpointMessage,
  checkpointLink,
  anchorMessage,
  ANCHOR_DOMAIN,
  type Anchor,
  type ReceiptKind,
  type ReceiptActor,
  type ReceiptRecord,
  type Checkpoint,
  type UnsignedCheckpoint,
} from './record.ts';
export { checkpointProblem, isCheckpointShape, nameCheckpoint, recordRange } from './checkpoint-chain.ts';
export { EXPORT_FORMAT, EXPORT_VERSION, exportLines, type ExportHeader, type ExportLine } from './export-format.ts';
export { verifyExport, type VerifyResult, type VerifyOptions } from './verify.ts';
export {
  DEVICE_STATEMENT_TYP,
  readDeviceStatement,
  signDeviceStatement,
  type DeviceStatement,
  type EndorsedKey,
} from './device-statement.ts';
