/**
 * The policy a new Briefcase starts with (issue: "read tools allowed, write tools need approval,
 * payment tools need approval above a threshold, admin tools denied to the agent").
 * `@approval("local" | "presence" | "signer")` on a permit makes that permit require approval.
 */
export const DEFAULT_PAYMENT_APPROVAL_THRESHOLD = 100;

export const DEFAULT_POLICY = `// Briefcase policy (Cedar). Check with \`briefcase policy check FILE\`,
// apply with \`briefcase policy apply FILE\`. Nothing is allowed unless a permit matches.

@id("read-tools")
permit (principal, action == Briefcase::Action::"call", resource)
when { resource.category == "read" };

@id("write-tools-need-approval")
@approval("local")
permit (principal, action == Briefcase::Action::"call", resource)
when { resource.category == "write" };

// Payments: small amounts (in minor units) go through; larger ones need a human.
@id("small-payments")
permit (principal, action == Briefcase::Action::"call", resource)
when { resource.category == "payment" && context.estimated_cost <= ${DEFAULT_PAYMENT_APPROVAL_THRESHOLD} };

@id("large-payments-need-approval")
@approval("local")
permit (principal, action == Briefcase::Action::"call", resource)
when { resource.category == "payment" && context.estimated_cost > ${DEFAULT_PAYMENT_APPROVAL_THRESHOLD} };

// Admin tools are for people, never for the agent.
@id("admin-tools-admin-only")
@approval("local")
permit (principal is Briefcase::Admin, action == Briefcase::Action::"call", resource)
when { resource.category == "admin" };

@id("no-admin-tools-for-agents")
forbid (principal is Briefcase::Agent, action, resource)
when { resource.category == "admin" };
`;

/**
 * The default policy once a passkey is enrolled (issue 9): write tools and large payments need
 * the `presence` tier, which an agent running as the user cannot forge. Admin tools stay `local`
 * (only an admin surface can call them at all).
 */
export function presenceDefaultPolicy(): string {
  const moved = DEFAULT_POLICY.replace(
    '@id("write-tools-need-approval")\n@approval("local")',
    '@id("write-tools-need-approval")\n@approval("presence")',
  ).replace(
    '@id("large-payments-need-approval")\n@approval("local")',
    '@id("large-payments-need-approval")\n@approval("presence")',
  );
  if (moved.split('@approval("presence")').length !== 3)
    throw new Error('default policy: the rules to move were not found');
  return moved;
}
