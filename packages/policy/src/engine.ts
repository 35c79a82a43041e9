import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { err, ok, type Result } from '@briefcase/protocol';
import { canonicalize } from '@briefcase/crypto';
import { argWarnings, readsArgs } from './arg-warnings.ts';
import { toCedarContext, type CedarJson } from './cedar-context.ts';
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
  /** Each policy's effect: an erroring forbid denies, so the engine must know which is which. */
  effects: Map<string, 'permit' | 'forbid'>;
  warnings: string[];
}

interface CedarRequest {
  tool: Record<string, CedarJson>;
  context: Record<string, CedarJson>;
}

let nextSetId = 0;
const CACHE_LIMIT = 10_000;

/**
 * Cedar policy evaluation. The policy set is parsed and cached in the WASM module once per load
 * (`preparsePolicySet`); each decision is one `statefulIsAuthorized` call (~0.1 ms here).
 * Cedar answers allow/deny; the approval tier comes from `@approval` annotations on the permits
 * that determined an allow, the strongest one winning.
 *
 * Fail closed on errors. Cedar skips a policy whose evaluation errors (a type error, a missing
 * attribute, an overflow) and says so in the diagnostics. A skipped permit simply does not
 * allow; a skipped forbid would let the call through, so an erroring forbid denies, with the
 * error for the receipt. A request Cedar refuses, or a throw from the WASM module, denies too.
 *
 * The context Cedar sees is built by cedar-context.ts (an agent's arguments can never be read as
 * entities or extension values) from only the attributes some policy mentions (context-refs.ts).
 * Decisions are cached per engine, keyed on the principal, the tool's attributes and exactly that
 * built context: Cedar is deterministic, so the same key always gets the same answer, and a new
 * policy gets a new engine and an empty cache.
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
    const built = this.#context(req, this.#refs);
    if (!built.ok) return { decision: 'deny', policies: [], errors: [built.error] };
    const key = canonicalize({ p: req.principal, t: built.value.tool, c: built.value.context });
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const decision = this.#evaluate(req, built.value);
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(key, decision);
    return decision;
  }

  /**
   * The decision on the whole context, without the cache and without leaving out what no policy
   * mentions: what `decide` must always agree with (the property tests check it).
   */
  decideUncached(req: PolicyRequest): PolicyDecision {
    const built = this.#context(req, { all: true, attrs: new Set(), allArgs: true, args: new Set() });
    if (!built.ok) return { decision: 'deny', policies: [], errors: [built.error] };
    return this.#evaluate(req, built.value);
  }

  /** The tool's attributes and the context as Cedar JSON; an argument refused denies the call. */
  #context(req: PolicyRequest, refs: ContextRefs): Result<CedarRequest, string> {
    // A remote server names its tools: one Cedar cannot parse must deny, not throw.
    if (!req.tool.name.isWellFormed()) return err('the tool name is not well-formed Unicode');
    const tool = toCedarContext({ ...req.tool }, () => true, 'tool attribute');
    if (!tool.ok) return err(tool.error);
    const { args, ...rest } = req.context;
    const top = toCedarContext(rest, (k) => refs.all || refs.attrs.has(k));
    if (!top.ok) return err(top.error);
    if (!refs.all && !refs.attrs.has('args')) return ok({ tool: tool.value, context: top.value });
    const built = toCedarContext(args, (k) => refs.allArgs || refs.args.has(k), 'argument');
    if (!built.ok) return err(built.error);
    return ok({ tool: tool.value, context: { ...top.value, args: built.value } });
  }

  #evaluate(req: PolicyRequest, { tool, context }: CedarRequest): PolicyDecision {
    const toolUid = { type: 'Briefcase::Tool', id: req.tool.name };
    let answer: cedar.AuthorizationAnswer;
    try {
      answer = cedar.statefulIsAuthorized({
        principal: { type: `Briefcase::${req.principal.type}`, id: req.principal.id },
        action: { type: 'Briefcase::Action', id: 'call' },
        resource: toolUid,
        context: context as cedar.Context,
        preparsedPolicySetId: this.#setId,
        entities: [{ uid: toolUid, attrs: tool as Record<string, cedar.CedarValueJson>, parents: [] }],
      });
    } catch (e) {
      // The WASM module throws on JSON its parser refuses (a lone surrogate, nesting past its
      // recursion limit). The builder keeps those out; should one get through, deny, not fail.
      return { decision: 'deny', policies: [], errors: [`policy evaluation failed: ${String(e)}`] };
    }
    if (answer.type !== 'success') {
      // Fail closed: an evaluation failure is a denial, with the reason for the receipt.
      return { decision: 'deny', policies: [], errors: answer.errors.map((e) => e.message) };
    }
    const { decision, diagnostics } = answer.response;
    // Cedar's order of ids and errors is not stable: sort, so that equal requests give equal
    // decisions (and receipts).
    const errors = diagnostics.errors.map((e) => `policy "${e.policyId}": ${e.error.message}`).sort();
    const reason = [...diagnostics.reason].sort();
    // An erroring forbid denies (an id the engine does not know is taken for a forbid: fail closed).
    const erroringForbids = [
      ...new Set(diagnostics.errors.map((e) => e.policyId).filter((id) => this.#compiled.effects.get(id) !== 'permit')),
    ].sort();
    if (decision !== 'allow')
      return { decision: 'deny', policies: [...new Set([...erroringForbids, ...reason])], errors };
    if (erroringForbids.length > 0) return { decision: 'deny', policies: erroringForbids, errors };
    const policies = reason;
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
  const effects = new Map<string, 'permit' | 'forbid'>();
  const argNotes: string[] = [];
  const readingArgs = new Set<string>();
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
    effects.set(id, json.json.effect);
    argNotes.push(...argWarnings(id, json.json));
    if (readsArgs(json.json)) readingArgs.add(id);
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
    return err(
      validation.validationErrors.map((e) => {
        const message = `policy "${e.policyId}": ${e.error.message}`;
        const arg = /attribute `args\.([^`]+)` in context/.exec(e.error.message)?.[1];
        // The schema cannot type arguments (they differ per tool): a read must follow a `has`.
        return arg ? `${message}: arguments are untyped, test \`context.args has ${arg}\` first` : message;
      }),
    );
  }
  // "policy is impossible" is the validator reading `args: {}` literally: for a policy that reads
  // arguments it says nothing, and the argument warnings below say what can happen instead.
  const warnings = [
    ...validation.validationWarnings
      .filter((w) => !(readingArgs.has(w.policyId) && w.error.message.includes('policy is impossible')))
      .map((w) => `policy "${w.policyId}": ${w.error.message}`),
    ...argNotes,
  ];
  return ok({ text, ids, tiers, effects, warnings });
}
