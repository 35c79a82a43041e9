import { domainHash, type PublicJwk } from '@briefcase/crypto';
import type { Checkpoint, ReceiptRecord } from './record.ts';

/**
 * The export is JSON Lines: one header line, then every signed checkpoint, then every record in
 * order. Checkpoints come first so that cutting records off the end of the file leaves checkpoints
 * that point past it: tail truncation below the last checkpoint is always detected.
 * v2: checkpoints are chained (record.ts), and the last one covers exactly the last record.
 */
export const EXPORT_FORMAT = 'briefcase-receipts';
export const EXPORT_VERSION = 2;

export interface ExportHeader {
  type: 'header';
  format: typeof EXPORT_FORMAT;
  v: typeof EXPORT_VERSION;
  /** When the export was made. A daemon's export signs a checkpoint of the head at this time. */
  exported_at: string;
  /** Informational: a verifier should trust keys it got another way (the data dir, --public-key). */
  public_keys: { key_id: string; jwk: PublicJwk }[];
  /** The device's signed statement of its receipts keys (device-statement.ts), when it has one. */
  device_statement?: string;
  /** Integrity of the header itself, so that no byte of an export goes unchecked. */
  header_sha256?: string;
}

export const HEADER_DOMAIN = 'briefcase.receipts-export-header.v2';

export function headerHash(header: ExportHeader): string {
  const { header_sha256: _omit, ...rest } = header;
  return domainHash(HEADER_DOMAIN, rest);
}

export interface RecordLine {
  type: 'record';
  hash: string;
  record: ReceiptRecord;
}

export interface CheckpointLine {
  type: 'checkpoint';
  checkpoint: Checkpoint;
}

export type ExportLine = ExportHeader | RecordLine | CheckpointLine;

export function* exportLines(
  header: ExportHeader,
  /** Records as stored: their JSON text is copied verbatim, so damage in storage shows in the export. */
  records: Iterable<{ hash: string; json: string }>,
  checkpoints: Checkpoint[],
): Generator<string> {
  yield JSON.stringify({ ...header, header_sha256: headerHash(header) });
  for (const checkpoint of checkpoints) {
    yield JSON.stringify({ type: 'checkpoint', checkpoint } satisfies CheckpointLine);
  }
  for (const { hash, json } of records) {
    yield `{"type":"record","hash":${JSON.stringify(hash)},"record":${json}}`;
  }
}
