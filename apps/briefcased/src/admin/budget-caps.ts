import { readFileSync } from 'node:fs';
import { BriefcaseError } from '@briefcase/protocol';
import { writeFileAtomic } from '@briefcase/vault';
import type { z } from 'zod';
import { BudgetCapConfig } from '../config.ts';
import type { Services } from '../daemon.ts';
import { transaction } from '../store/db.ts';

export type BudgetCap = z.infer<typeof BudgetCapConfig>;

export function parseCap(input: unknown): BudgetCap {
  const parsed = BudgetCapConfig.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BriefcaseError(
      'bad_request',
      `cap ${issue?.path.join('.') || ''}: ${issue?.message ?? 'invalid'}`.trim(),
    );
  }
  return parsed.data;
}

/**
 * Does setting `next` (or removing the cap, when undefined) let an agent do more than `current`
 * did? A new cap, a lower limit on the same scope and window, or `approval` → `deny` only narrow.
 */
export function capWidens(current: BudgetCap | undefined, next: BudgetCap | undefined): boolean {
  if (!current) return false;
  if (!next) return true;
  if (current.scope !== next.scope || current.match !== next.match || current.window !== next.window) return true;
  if (next.limit > current.limit) return true;
  return current.on_exceed === 'deny' && next.on_exceed !== 'deny';
}

export function currentCap(s: Services, id: string): BudgetCap | undefined {
  return s.config.budgets.caps.find((c) => c.id === id);
}

/** Set or remove a cap: config.json is rewritten (other keys untouched), receipted, live at once. */
export function writeCap(s: Services, id: string, next: BudgetCap | undefined): { ok: true; caps: BudgetCap[] } {
  const before = currentCap(s, id);
  if (!next && !before) throw new BriefcaseError('not_found', `no budget cap ${id}`);
  const caps = s.config.budgets.caps.filter((c) => c.id !== id);
  if (next) caps.push(next);
  const raw = JSON.parse(readFileSync(s.paths.config, 'utf8')) as Record<string, unknown>;
  const budgets = (raw.budgets ?? {}) as Record<string, unknown>;
  raw.budgets = { ...budgets, caps };
  transaction(s.db, () => {
    s.receipts.append('policy', 'admin', {
      event: next ? 'budget_cap_set' : 'budget_cap_removed',
      cap_id: id,
      before: before ?? null,
      after: next ?? null,
    });
    writeFileAtomic(s.paths.config, `${JSON.stringify(raw, null, 2)}\n`);
  });
  s.config.budgets.caps = caps;
  s.logger.info(next ? 'budget cap set' : 'budget cap removed', { cap: id });
  return { ok: true, caps };
}
