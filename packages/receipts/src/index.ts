export {
  RECEIPT_KINDS,
  GENESIS_PREV,
  RECORD_DOMAIN,
  CHECKPOINT_DOMAIN,
  recordHash,
  receiptId,
  checkpointMessage,
  type ReceiptKind,
  type ReceiptActor,
  type ReceiptRecord,
  type Checkpoint,
} from './record.ts';
export { EXPORT_FORMAT, exportLines, type ExportHeader, type ExportLine } from './export-format.ts';
export { verifyExport, type VerifyResult, type VerifyOptions } from './verify.ts';
export {
  DEVICE_STATEMENT_TYP,
  readDeviceStatement,
  signDeviceStatement,
  type DeviceStatement,
  type EndorsedKey,
} from './device-statement.ts';
