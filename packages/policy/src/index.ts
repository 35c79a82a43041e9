export { CEDAR_SCHEMA } from './schema.ts';
export { DEFAULT_POLICY, DEFAULT_PAYMENT_APPROVAL_THRESHOLD, presenceDefaultPolicy } from './default-policy.ts';
export { TIERS, isTier, tierRank, maxTier, type Tier } from './tiers.ts';
export { PolicyEngine, compilePolicy, type PolicyRequest, type PolicyDecision, type CompiledPolicy } from './engine.ts';
export {
  capApplies,
  windowKey,
  exceeds,
  type BudgetCap,
  type BudgetCheck,
  type BudgetScope,
  type BudgetWindow,
} from './budget.ts';
export { contextRefs, type ContextRefs } from './context-refs.ts';
export { toCedarContext, cedarKey, UNREPRESENTABLE, MAX_DEPTH, MAX_VALUES, type CedarJson } from './cedar-context.ts';
