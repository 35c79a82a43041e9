/**
 * Budget caps in integer minor units (DESIGN.md §2 step 6). A cap applies to one tool, one
 * category or every call, over one call, a UTC day or a UTC month. Pure: spend totals come from
 * the daemon's durable ledger.
 */
export type BudgetWindow = 'call' | 'day' | 'month';
export type BudgetScope = 'tool' | 'category' | 'all';

export interface BudgetCap {
  id: string;
  scope: BudgetScope;
  /** Tool name or category; ignored for scope "all". */
  match?: string | undefined;
  window: BudgetWindow;
  limit: number;
  on_exceed: 'approval' | 'deny';
}

export interface BudgetCheck {
  cap: BudgetCap;
  /** Spend already counted in the cap's window (reserved and settled). */
  spent: number;
  estimated: number;
}

export function capApplies(cap: BudgetCap, tool: string, category: string): boolean {
  switch (cap.scope) {
    case 'all':
      return true;
    case 'tool':
      return cap.match === tool;
    case 'category':
      return cap.match === category;
  }
}

/** The key of the window that `at` falls in: "call", "2026-11-22" or "2026-11" (UTC). */
export function windowKey(window: BudgetWindow, at: Date): string {
  const iso = at.toISOString();
  switch (window) {
    case 'call':
      return 'call';
    case 'day':
      return iso.slice(0, 10);
    case 'month':
      return iso.slice(0, 7);
  }
}

export function exceeds(check: BudgetCheck): boolean {
  const total = check.cap.window === 'call' ? check.estimated : check.spent + check.estimated;
  return total > check.cap.limit;
}
