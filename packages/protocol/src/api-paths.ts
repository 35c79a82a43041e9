/**
 * The daemon's local API (gateway and CLI → briefcased). Paths are versioned; every body has a
 * schema named after what it accepts. Agent routes live under /v1/agent, admin routes under
 * /v1/admin; the agent token is refused (403) on every admin route.
 *
 * Kept apart from the schemas (no zod) so a short-lived client such as the CLI can use the paths
 * without loading the schema library.
 */
export const API_PATHS = {
  health: '/v1/health',
  agentTools: '/v1/agent/tools',
  agentCall: '/v1/agent/tools/call',
  agentApproval: '/v1/agent/approvals/', // + id
  adminStatus: '/v1/admin/status',
  adminTools: '/v1/admin/tools',
  adminCall: '/v1/admin/tools/call',
  adminApprovals: '/v1/admin/approvals',
  adminPolicy: '/v1/admin/policy',
  adminPolicyCheck: '/v1/admin/policy/check',
  adminSecrets: '/v1/admin/secrets',
  /** GET ?kind=&tool=&outcome=&limit=&before= (newest first); GET …/receipts/<id> for one. */
  adminReceipts: '/v1/admin/receipts',
  adminReceiptsExport: '/v1/admin/receipts/export',
  adminReceiptsCheckpoint: '/v1/admin/receipts/checkpoint',
} as const;

/**
 * The call stream (docs/api.md): an HTTP Upgrade to JSON lines on which tool calls go and their
 * progress and answers come back, one kept connection for many calls.
 */
export const CALL_STREAM_PROTOCOL = 'briefcase-calls/1';
export const CALL_STREAM_PATHS = { agent: '/v1/agent/tools/stream', admin: '/v1/admin/tools/stream' } as const;
/** Calls one call stream may have in flight; a client queues more (the daemon refuses them). */
export const CALL_STREAM_MAX_IN_FLIGHT = 256;
