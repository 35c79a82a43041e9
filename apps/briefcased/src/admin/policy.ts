import { sha256Hex } from '@briefcase/crypto';
import { PolicyEngine } from '@briefcase/policy';
import { BriefcaseError } from '@briefcase/protocol';
import { writeFileAtomic } from '@briefcase/vault';
import type { Services } from '../daemon.ts';
import { transaction } from '../store/db.ts';

/** Check a policy text; throws invalid_policy with every error. */
export function loadPolicy(text: string): PolicyEngine {
  const engine = PolicyEngine.load(text);
  if (!engine.ok) throw new BriefcaseError('invalid_policy', engine.error.join('\n'));
  return engine.value;
}

/** Apply a policy: receipted and written in one transaction, then live. */
export function applyPolicy(
  s: Services,
  text: string,
  extra: Record<string, unknown> = {},
): { ok: true; old_hash: string; hash: string; warnings: string[] } {
  const engine = loadPolicy(text);
  const oldHash = s.policy.hash;
  const newHash = sha256Hex(text);
  transaction(s.db, () => {
    s.receipts.append('policy', 'admin', { event: 'applied', old_sha256: oldHash, new_sha256: newHash, ...extra });
    writeFileAtomic(s.paths.policy, text);
  });
  s.policy.engine = engine;
  s.policy.hash = newHash;
  s.logger.info('policy applied', { old_sha256: oldHash, new_sha256: newHash });
  return { ok: true, old_hash: oldHash, hash: newHash, warnings: engine.warnings };
}
