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
