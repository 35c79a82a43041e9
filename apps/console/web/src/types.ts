// The shapes the console API returns (apps/console/src/backend.ts and @briefcase/protocol's
// ApprovalView), restated here because the page is built for the browser on its own.
export interface ApprovalView {
  id: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired' | 'consumed';
  tier: 'local' | 'presence' | 'signer';
  tool: string;
  origin: string;
  category: string;
  args: Record<string, unknown>;
  call_hash: string;
  reason: string;
  reads: string | null;
  changes: string | null;
  estimated_cost: number;
  currency: string;
  requested_by: 'agent' | 'admin';
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  /** Optional: the budget cap the call draws on, when the daemon says. */
  budget?: string | null;
  /** For a remote server's tool: what the server may reach, when the daemon says. */
  access?: string | null;
}

export interface PasskeyView {
  credential_id: string;
  label: string;
  created_at: string;
  last_used_at: string | null;
}

export interface OperationView {
  id: string;
  kind: string;
  summary: string;
  details: Record<string, unknown>;
  status: 'pending' | 'confirmed' | 'rejected' | 'expired' | 'failed';
  created_at: string;
  expires_at: string;
  result?: Record<string, unknown>;
  error?: string;
}

export interface ReceiptSummary {
  seq: number;
  id: string;
  ts: string;
  kind: string;
  actor: string;
  tool?: string;
  event?: string;
  outcome?: string;
  presence?: boolean;
}

export interface VerifyView {
  ok: boolean;
  records: number;
  checkpoints: number;
  assertions: number;
  problems: string[];
}

export interface SpendView {
  currency: string;
  caps: { id: string; scope: string; window: string; limit: number; spent: number; reserved: number }[];
  series: { day: string; total: number }[];
}

export interface RemoteToolView {
  qualified: string;
  original: string;
  state: 'pinned' | 'new' | 'changed';
  before?: string;
  after?: string;
}

/** What a tool may reach (packages/protocol/src/access.ts), as the console shows it. */
export interface AccessView {
  isolation: string;
  filesystem: { path: string; access: string }[];
  network: string[];
  allow_private: boolean;
  env: string[];
  secrets: Record<string, string>;
}

export interface RemoteView {
  name: string;
  transport: string;
  target: string;
  status: string;
  tools: RemoteToolView[];
  /** What the server may reach (issue 10). */
  access?: AccessView | undefined;
}

export interface ConnectorView {
  file: string;
  tools: string[];
  state: 'ok' | 'disabled';
  reason: string | null;
  access?: AccessView | undefined;
}

export interface KeyView {
  role: string;
  algorithm: string;
  backend: string;
  non_exportable: boolean;
  key_id: string;
}

export interface GrantLimitView {
  rail: string;
  network: string;
  asset: string;
  total: string;
  velocity: { amount: string; count: number; window_seconds: number };
  approval_above?: string;
  settled: string;
  reserved: string;
}

export interface GrantView {
  grant_id: string;
  state: 'active' | 'revoked' | 'expired';
  limits: GrantLimitView[];
  payees: string[];
  purposes: string[];
  created_at: string;
  expires_at: string;
  revoked_at?: string;
}

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Ceremony {
  challenge_id: string;
  options: Record<string, unknown>;
}
