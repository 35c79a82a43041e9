import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { err, ok, type Result } from '@briefcase/protocol';
import { canonicalize } from '@briefcase/crypto';
import { contextRefs, type ContextRefs } from './context-refs.ts';
import { CEDAR_SCHEMA } from './schema.ts';
import { isTier, maxTier, type Tier } from './tiers.ts';

export interface PolicyRequest {
  principal: { type: 'Agent' | 'Admin'; id: string };
  tool: { name: string; origin: string; server: string; category: string; tags: string[] };
  context: { estimated_cost: number; now: number; hour_utc: number; args: Record<string, unknown> };
}

export type PolicyDecision =
  | { decision: 'deny'; policies: string[]; errors: string[] }
  | { decision: 'allow'; tier: Tier | null; policies: string[] };

export interface CompiledPolicy {
  text: string;
  ids: string[];
  tiers: Map<string, Tier>;
  warnings: string[];
}

let nextSetId = 0;
const CACHE_LIMIT = 10_000;

/**
 * Cedar policy evaluation. The policy set is parsed and cached in the WASM module once per load
 * (`preparsePolicySet`); each decision is one `statefulIsAuthorized` call (~0.1 ms here).
 * Cedar answers allow/deny; the approval tier comes from `@approval` annotations on the permits
 * that determined an allow, the strongest one winning.
 *
 * Decisions are cached per engine, keyed on the principal, the tool's attributes and only the
 * context attributes some policy mentions (see context-refs.ts): Cedar is deterministic, so the
 * same key always gets the same answer, and a new policy gets a new engine and an empty cache.
 */
export class PolicyEngine {
  #setId: string;
  #compiled: CompiledPolicy;
  #refs: ContextRefs;
  #cache = new Map<string, PolicyDecision>();

  private constructor(setId: string, compiled: CompiledPolicy, refs: ContextRefs) {
    this.#setId = setId;
    this.#compiled = compiled;
    this.#refs = refs;
  }

  static load(text: string): Result<PolicyEngine, string[]> {
    const compiled = compilePolicy(text);
    if (!compiled.ok) return compiled;
    const setId = `briefcase-${nextSetId++}`;
    const texts = splitPolicies(text);
    const staticPolicies = Object.fromEntries(compiled.value.ids.map((id, i) => [id, texts[i] ?? '']));
    const parsed = cedar.preparsePolicySet(setId, { staticPolicies });
    if (parsed.type !== 'success') return err(parsed.errors.map((e) => e.message));
    return ok(new PolicyEngine(setId, compiled.value, contextRefs(texts)));
  }

  get text(): string {
    return this.#compiled.text;
  }

  get warnings(): string[] {
    return this.#compiled.warnings;
  }

  decide(req: PolicyRequest): PolicyDecision {
    const key = this.#cacheKey(req);
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const decision = this.#evaluate(req);
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(key, decision);
    return decision;
  }

  #cacheKey(req: PolicyRequest): string {
    const context = this.#refs.all
      ? req.context
      : Object.fromEntries(Object.entries(req.context).filter(([k]) => this.#refs.attrs.has(k)));
    return canonicalize({ p: req.principal, t: req.tool, c: context });
  }

  #evaluate(req: PolicyRequest): PolicyDecision {
    const toolUid = { type: 'Briefcase::Tool', id: req.tool.name };
    const answer = cedar.statefulIsAuthorized({
      principal: { type: `Briefcase::${req.principal.type}`, id: req.principal.id },
      action: { type: 'Briefcase::Action', id: 'call' },
      resource: toolUid,
      context: req.context as cedar.Context,
      preparsedPolicySetId: this.#setId,
      entities: [{ uid: toolUid, attrs: req.tool as unknown as Record<string, cedar.CedarValueJson>, parents: [] }],
    });
    if (answer.type !== 'success') {
      // Fail closed: an evaluation failure is a denial, with the reason for the receipt.
      return { decision: 'deny', policies: [], errors: answer.errors.map((e) => e.message) };
    }
    const { decision, diagnostics } = answer.response;
    const policies = diagnostics.reason;
    if (decision !== 'allow') {
      return { decision: 'deny', policies, errors: diagnostics.errors.map((e) => e.error.message) };
    }
    let tier: Tier | null = null;
    for (const id of policies) tier = maxTier(tier, this.#compiled.tiers.get(id) ?? null);
    return { decision: 'allow', tier, policies };
  }
}

function splitPolicies(text: string): string[] {
  const parts = cedar.policySetTextToParts(text);
  return parts.type === 'success' ? parts.policies : [];
}

/** Parse, name and validate a policy text against the schema; errors say where and why. */
export function compilePolicy(text: string): Result<CompiledPolicy, string[]> {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type !== 'success') return err(parts.errors.map((e) => `parse error: ${e.message}`));
  if (parts.policy_templates.length > 0) return err(['policy templates are not supported yet']);
  const ids: string[] = [];
  const tiers = new Map<string, Tier>();
  const errors: string[] = [];
  parts.policies.forEach((policyText, index) => {
    const json = cedar.policyToJson(policyText);
    if (json.type !== 'success') {
      errors.push(...json.errors.map((e) => `policy ${index}: ${e.message}`));
      return;
    }
    const annotations = json.json.annotations ?? {};
    const id = annotations.id ?? `policy${index}`;
    if (ids.includes(id)) errors.push(`policy ${index}: duplicate @id("${id}")`);
    ids.push(id);
    const approval = annotations.approval;
    if (approval !== undefined && approval !== null) {
      if (json.json.effect !== 'permit') errors.push(`policy "${id}": @approval only makes sense on a permit`);
      else if (!isTier(approval)) {
        errors.push(`policy "${id}": @approval("${approval}") must be one of "local", "presence", "signer"`);
      } else tiers.set(id, approval);
    }
  });
  if (errors.length > 0) return err(errors);
  const validation = cedar.validate({
    schema: CEDAR_SCHEMA,
    policies: { staticPolicies: Object.fromEntries(ids.map((id, i) => [id, parts.policies[i] ?? ''])) },
    validationSettings: { mode: 'strict' },
  });
  if (validation.type !== 'success') return err(validation.errors.map((e) => e.message));
  if (validation.validationErrors.length > 0) {
    return err(validation.validationErrors.map((e) => `policy "${e.policyId}": ${e.error.message}`));
  }
  const warnings = validation.validationWarnings.map((w) => `policy "${w.policyId}": ${w.error.message}`);
  return ok({ text, ids, tiers, warnings });
}
