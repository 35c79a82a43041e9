import type { DatabaseSync } from 'node:sqlite';
import { readPublicKeys } from '@briefcase/keys';
import { BriefcaseError } from '@briefcase/protocol';
import { recordRange, type Anchor } from '@briefcase/receipts';
import { anchorText, checkLog, readAnchor, type ReceiptLog } from '@briefcase/receipts/node';
import type { Logger } from '@briefcase/telemetry';
import { writeFileAtomic } from '@briefcase/vault';
import type { DataPaths } from './paths.ts';
import { cli } from './cli-hint.ts';

/** The flag that starts the daemon on a log that does not extend what it last signed. */
export const ACCEPT_ALTERED_FLAG = '--accept-altered-receipts';

/**
 * Keep each committed checkpoint as the anchor (receipts.anchor), outside the database. A failed
 * write leaves the previous anchor, which the log still extends: logged, not fatal.
 */
export function anchorWriter(paths: DataPaths, logger: Logger): (anchor: Anchor) => void {
  return (anchor) => {
    try {
      writeFileAtomic(paths.receiptsAnchor, anchorText(anchor));
    } catch (e) {
      logger.error('could not write the receipts anchor', { path: paths.receiptsAnchor, error: e });
    }
  };
}

/**
 * Start-up: the log must extend what the daemon last signed (packages/receipts/src/node/check-log.ts).
 * Someone with write access to the data directory but no receipts key can rewrite, truncate or
 * empty the database consistently; this is where the daemon notices. A crash's unsigned tail is
 * legitimate and is signed now, with a recovery receipt saying so. Anything else refuses to start,
 * unless `accept` (the loud escape hatch): then the old checkpoints are set aside, the discrepancy
 * is receipted, and a new chain starts over the log as it is.
 */
export async function guardReceiptLog(
  db: DatabaseSync,
  receipts: ReceiptLog,
  paths: DataPaths,
  logger: Logger,
  accept: boolean,
): Promise<void> {
  const keys = new Map(readPublicKeys(paths.home, 'receipts').map((k) => [k.keyId, k.jwk]));
  const anchor = readAnchor(paths.receiptsAnchor);
  const check = checkLog(db, anchor, (id) => keys.get(id));
  if (check.problems.length > 0) {
    if (!accept) {
      throw new BriefcaseError(
        'receipts_altered',
        [
          `the receipt log in ${paths.db} does not extend what this Briefcase last signed:`,
          ...check.problems.map((p) => `  - ${p}`),
          'Someone with write access to the data directory may have rewritten, truncated or emptied it.',
          `Keep a copy of ${paths.home} for investigation (\`${cli('receipts', 'export', '--out')} <file>\` works with the daemon stopped), then`,
          `start with \`${cli('start', ACCEPT_ALTERED_FLAG)}\` to continue on this log: the discrepancy is receipted and a new checkpoint chain starts.`,
        ].join('\n'),
      );
    }
    const anchored = anchor.ok ? anchor.anchor?.checkpoint : null;
    const setAside = receipts.setAsideCheckpoints(check.problems.join('; '));
    receipts.append('recovery', 'daemon', {
      event: 'altered_accepted',
      problems: check.problems,
      head_seq: check.head?.seq ?? 0,
      anchor: anchored ? { n: anchored.n, seq: anchored.seq, hash: anchored.hash, ts: anchored.ts } : null,
      checkpoints_set_aside: setAside,
      note: `started with ${ACCEPT_ALTERED_FLAG}: the log up to seq ${check.head?.seq ?? 0} does not extend what the daemon last signed (${check.problems.join('; ')}); it is vouched for only from this receipt on`,
    });
    logger.warn('receipt log altered: started anyway', { problems: check.problems, flag: ACCEPT_ALTERED_FLAG });
    await receipts.checkpoint();
    return;
  }
  if (check.unsignedTail) {
    const { from, to } = check.unsignedTail;
    receipts.append('recovery', 'daemon', {
      event: 'unsigned_tail',
      from_seq: from,
      to_seq: to,
      note: `${recordRange(from, to)} written by a run that stopped before signing them, signed now on the daemon's word only`,
    });
    logger.warn('unsigned receipts after an unclean stop: signed now', { from_seq: from, to_seq: to });
    await receipts.checkpoint();
  }
}
