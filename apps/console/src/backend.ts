/**
 * What the console server needs from the daemon. The daemon implements it
 * (apps/briefcased/src/console/backend.ts); the console owns HTTP, sessions and the page, and
 * never sees a token, a secret or a key. Every WebAuthn check happens behind this interface.
 *
 * Passkey ceremonies: the console asks for options (`begin*`), the browser runs
 * `startRegistration` / `startAuthentication`, and the console hands the browser's JSON answer
 * back (`finish*`, `approve`, `confirm`) with the challenge id it was given. `origin` is the
 * console's own origin (`http://localhost:PORT`), which the backend checks the assertion against.
 */
import type { ApprovalView } from '@briefcase/protocol';

/** JSON the browser gets from @simplewebauthn/server and passes to @simplewebauthn/browser. */
export type CeremonyOptions = Record<string, unknown>;
/** JSON @simplewebauthn/browser returns (RegistrationResponseJSON / AuthenticationResponseJSON). */
export type CeremonyResponse = Record<string, unknown>;

/** An approval as the console shows it: with the budget caps the call draws on, in words. */
export type ConsoleApproval = ApprovalView & {
  budget?: string | null | undefined;
  /** For a remote server's tool: what that server may reach, in words (issue 10). */
  access?: string | null | undefined;
};

/** What a presence assertion is for; the challenge commits to it (packages/presence). */
export type PresencePurpose =
  { kind: 'signin' } | { kind: 'approve'; approval_id: string } | { kind: 'operation'; operation_id: string };

export interface PasskeyView {
  credential_id: string;
  label: string;
  created_at: string;
  last_used_at: string | null;
}

/** A guarded admin change waiting for a person (started by the CLI or the console). */
export interface OperationView {
  id: string;
  /** e.g. policy_apply, budget_cap_set, remote_add, remote_pin, connector_add, key_rotate, passkey_add, passkey_remove */
  kind: string;
  /** One line a person can judge, e.g. "apply a policy (sha256 ab12…)". */
  summary: string;
  /** The exact change, for display: before/after texts, the server command, the cap… */
  details: Record<string, unknown>;
  status: 'pending' | 'confirmed' | 'rejected' | 'expired' | 'failed';
  created_at: string;
  expires_at: string;
  /** Set once confirmed and run. */
  result?: Record<string, unknown> | undefined;
  error?: string | undefined;
}

export interface ReceiptSummary {
  seq: number;
  id: string;
  ts: string;
  kind: string;
  actor: string;
  /** tool name, event, outcome… whatever the record says, flattened for the list. */
  tool?: string | undefined;
  event?: string | undefined;
  outcome?: string | undefined;
  /** true when this approval receipt carries a passkey assertion. */
  presence?: boolean | undefined;
}

export interface ReceiptFilter {
  kind?: string | undefined;
  tool?: string | undefined;
  outcome?: string | undefined;
  /** Return records with seq < before (paging backwards); newest first. */
  before?: number | undefined;
  limit?: number | undefined;
}

export interface VerifyView {
  ok: boolean;
  records: number;
  checkpoints: number;
  /** Presence assertions checked offline against the enrolled passkeys. */
  assertions: number;
  problems: string[];
}

export interface SpendView {
  currency: string;
  caps: {
    id: string;
    scope: string;
    window: string;
    limit: number;
    spent: number;
    reserved: number;
  }[];
  /** Spend per day, oldest first, for the chart. */
  series: { day: string; total: number }[];
}

export interface RemoteToolView {
  qualified: string;
  original: string;
  state: 'pinned' | 'new' | 'changed';
  /** For a changed tool: the reviewed and the current definition, pretty-printed JSON. */
  before?: string | undefined;
  after?: string | undefined;
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
  /** `disabled`: not loaded (invalid, a name clash, or not approved), with the reason. */
  state: 'ok' | 'disabled';
  reason: string | null;
  /** What the connector may reach (its `access`, with the deprecated `egress` list folded in). */
  access?: AccessView | undefined;
}

export interface KeyView {
  role: string;
  algorithm: string;
  backend: string;
  non_exportable: boolean;
  key_id: string;
}

/** One limit of a spending grant with what it has settled and holds, in the asset's atomic units. */
export interface GrantLimitView {
  rail: string;
  network: string;
  asset: string;
  total: string;
  velocity: { amount: string; count: number; window_seconds: number };
  approval_above?: string | undefined;
  settled: string;
  reserved: string;
}

/** A spending grant (docs/payments.md) as the console lists it. */
export interface GrantView {
  grant_id: string;
  state: 'active' | 'revoked' | 'expired';
  limits: GrantLimitView[];
  payees: string[];
  purposes: string[];
  created_at: string;
  expires_at: string;
  revoked_at?: string | undefined;
}

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export type ConsoleEvent =
  | { type: 'approval'; id: string; status: string }
  | { type: 'operation'; id: string; status: string }
  | { type: 'passkeys'; count: number };

export interface ConsoleBackend {
  /** The device this daemon is, and whether a passkey exists yet (sign-in vs first enrolment). */
  status(): { device_id: string; version: string; passkeys: number };

  /** A one-time enrolment link (from `briefcase console`): valid once, for minutes, only before the first passkey. */
  redeemEnrolLink(token: string): boolean;

  /** Registration: the first passkey (after redeemEnrolLink) or, later, inside a confirmed passkey_add operation. */
  beginRegistration(label: string, operationId?: string): Promise<{ challenge_id: string; options: CeremonyOptions }>;
  finishRegistration(
    challengeId: string,
    response: CeremonyResponse,
    origin: string,
  ): Promise<{ passkey: PasskeyView; recovery_codes?: string[] | undefined; policy_note?: string | undefined }>;

  /** An assertion ceremony whose challenge commits to `purpose` and a fresh nonce. */
  beginAssertion(purpose: PresencePurpose): Promise<{ challenge_id: string; options: CeremonyOptions }>;
  /** Sign-in: a verified assertion for { kind: 'signin' }. Returns the credential used. */
  signIn(challengeId: string, response: CeremonyResponse, origin: string): Promise<{ credential_id: string }>;
  /** Recovery: a one-time code from enrolment lets a new passkey be registered (codes stored as hashes only). */
  redeemRecoveryCode(code: string): boolean;

  approvals(status?: ApprovalView['status']): ConsoleApproval[];
  approval(id: string): ConsoleApproval | undefined;
  /** Approve with an assertion for { kind: 'approve', approval_id: id }. Any tier up to presence. */
  approve(id: string, challengeId: string, response: CeremonyResponse, origin: string): Promise<ApprovalView>;
  /** Narrowing: no passkey needed. */
  reject(id: string): ApprovalView;

  operations(status?: OperationView['status']): OperationView[];
  operation(id: string): OperationView | undefined;
  /** Start a guarded change from the console (the CLI starts them through the admin API). */
  startOperation(kind: string, params: Record<string, unknown>): Promise<OperationView>;
  confirm(id: string, challengeId: string, response: CeremonyResponse, origin: string): Promise<OperationView>;
  rejectOperation(id: string): OperationView;

  passkeys(): PasskeyView[];

  receipts(filter: ReceiptFilter): ReceiptSummary[];
  receipt(id: string): Record<string, unknown> | undefined;
  verify(): Promise<VerifyView>;

  spend(): SpendView;
  /** Spending grants and the payment wallet's address (never its key). */
  grants(): { wallet: string | null; grants: GrantView[] };
  /** Narrowing: no passkey needed beyond the signed-in session (receipted). Creating is the grant_create operation. */
  revokeGrant(id: string): { grant_id: string; revoked_at: string };
  remotes(): RemoteView[];
  connectors(): ConnectorView[];
  keys(): KeyView[];
  doctor(): Promise<DoctorCheck[]>;

  /** Live changes for the approvals page (sent to the browser as SSE). Returns an unsubscribe. */
  subscribe(listener: (event: ConsoleEvent) => void): () => void;
}
