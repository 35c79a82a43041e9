import type { DatabaseSync } from 'node:sqlite';
import { pinSecretName, type Signer } from '@briefcase/keys';
import { PaymentError, PaymentFlow, signGrant, type GrantRequest, type SpendingGrant } from '@briefcase/payments';
import { HelperSigner, moduleEnvironment, SqliteSpendLedger } from '@briefcase/payments/node';
import type { X402Signer } from '@briefcase/payments/x402';
import type { ReceiptLog } from '@briefcase/receipts/node';
import type { Logger } from '@briefcase/telemetry';
import { GrantStore } from './grants-store.ts';
import { LazyRail } from './lazy-rail.ts';
import { walletForHelper } from './wallet.ts';

export interface PaymentsConfig {
  /** JSON-RPC endpoint per CAIP-2 network the daemon pays on (x402). */
  rpc: Record<string, string>;
  /** The first payment to a payee never paid before needs approval. */
  approve_new_payees?: boolean | undefined;
  /** LND for L402 (docs/payments-l402.md); absent: L402 challenges are not paid. */
  l402?:
    | {
        rest_url: string;
        tls_cert_path: string;
        macaroon_secret: string;
        network: 'bc' | 'tb' | 'tbs' | 'bcrt' | 'sb';
        max_fee_msat: string;
        pay_timeout_seconds: number;
      }
    | undefined;
  /** The held-payment sweep (defaults: every 60 s, reservations older than 600 s). */
  sweep?: { interval_seconds: number; min_age_seconds: number } | undefined;
}

/**
 * The daemon's payment wiring: the grant store, the spend ledger (same database as receipts),
 * the rails, and the flow. Grants are issued by this daemon's identity key on an admin's request
 * (guarded by presence once passkeys exist) and bound to that same key.
 */
export class Payments {
  readonly grants: GrantStore;
  readonly ledger: SqliteSpendLedger;
  readonly flow: PaymentFlow;
  readonly #identity: () => Signer;
  readonly #rails: LazyRail[];

  constructor(o: {
    db: DatabaseSync;
    home: string;
    masterKey: Uint8Array;
    identity: () => Signer;
    config: () => PaymentsConfig;
    /** A vault secret by name (the LND macaroon), read when a payment is made. */
    secret?: (name: string) => { expose(): string } | undefined;
  }) {
    this.grants = new GrantStore(o.db);
    this.ledger = new SqliteSpendLedger(o.db);
    this.#identity = o.identity;
    const trust = () => ({ issuers: [o.identity().keyId], gateway: o.identity().keyId });
    const signer = this.#walletSigner(o, trust);
    const backends = [
      new LazyRail('x402', async () => {
        const { X402Backend } = await import('@briefcase/payments/x402');
        return new X402Backend({ rpc: o.config().rpc, signer });
      }),
    ];
    const l402 = o.config().l402;
    if (l402) {
      const name = l402.macaroon_secret.slice('{{secret:'.length, -2);
      backends.push(
        new LazyRail('l402', async () =>
          (await import('@briefcase/payments/l402')).l402BackendFromConfig(
            {
              restUrl: l402.rest_url,
              tlsCertPath: l402.tls_cert_path,
              macaroonSecret: name,
              network: l402.network,
              maxFeeMsat: l402.max_fee_msat,
              payTimeoutSeconds: l402.pay_timeout_seconds,
            },
            () => ({
              expose: () => {
                const v = o.secret?.(name);
                if (!v)
                  throw new PaymentError('signing_refused', `the LND macaroon secret ${name} is not in the vault`);
                return v.expose();
              },
            }),
          ),
        ),
      );
    }
    this.#rails = backends;
    this.flow = new PaymentFlow({
      backends,
      ledger: this.ledger,
      grants: () => this.grants.list(),
      trust,
      approveNewPayees: () => o.config().approve_new_payees === true,
    });
  }

  /** Imports the rails' code (first payment or recovery only); before `flow.pay`. */
  async loadRails(): Promise<void> {
    await Promise.all(this.#rails.map((r) => r.load()));
  }

  /** Stop the payment-helper process (daemon shutdown). */
  close(): void {
    this.#helper?.close();
  }

  #helper: HelperSigner | undefined;

  /**
   * Signatures come from the payment-helper process (AC-6.1), started when the first payment is
   * signed (a wallet made after start works); the daemon never opens the payment key itself. A
   * PKCS#11 payment key's PIN is found as for the daemon's keys (BRIEFCASE_PKCS11_PIN, else the
   * vault's `pkcs11.pin.<token>`) and handed to the helper, which opens the token session.
   */
  #walletSigner(
    o: { home: string; masterKey: Uint8Array; secret?: (name: string) => { expose(): string } | undefined },
    trust: () => { issuers: string[]; gateway: string },
  ): X402Signer {
    const get = (): HelperSigner => {
      if (this.#helper) return this.#helper;
      const wallet = walletForHelper(o.home);
      if (!wallet) {
        throw new PaymentError('signing_refused', 'no payment key: `briefcase keys create --role payment`');
      }
      const label = wallet.pkcs11?.token_label;
      const pin = label ? process.env.BRIEFCASE_PKCS11_PIN || o.secret?.(pinSecretName(label))?.expose() : undefined;
      return (this.#helper = new HelperSigner({
        home: o.home,
        masterKey: o.masterKey,
        address: wallet.address,
        legacy: wallet.legacy,
        pin,
        env: label ? moduleEnvironment() : {},
        trust,
      }));
    };
    return {
      get address() {
        return get().address;
      },
      signTransfer: (typed, authz) => get().signTransfer(typed, authz),
    };
  }

  async createGrant(request: GrantRequest): Promise<SpendingGrant> {
    const id = this.#identity();
    const grant = await signGrant(
      request,
      { publicJwk: id.publicJwk as unknown as Record<string, string>, keyId: id.keyId, sign: (m) => id.sign(m) },
      id.keyId,
      `grant_${crypto.randomUUID()}`,
      new Date(),
    );
    this.grants.add(grant);
    return grant;
  }

  /** Crash recovery: settle or release every reservation whose outcome is unknown; receipted. */
  async recover(receipts: ReceiptLog, logger: Logger): Promise<void> {
    for (const { entry, settlement } of await this.flow.recover()) {
      receipts.append('payment', 'daemon', {
        event: 'recovered',
        ...paymentFacts(entry.grantId, entry.budgetId, settlement),
      });
      logger.warn('payment in doubt after an unclean stop, resolved from the rail', {
        budget_id: entry.budgetId,
        status: settlement.status,
      });
    }
  }

  #sweeping = false;

  /**
   * While running: held payments older than any call (a facilitator that claimed a settlement it
   * never made) are asked of the rail again; those now settled or expired are receipted.
   */
  async sweep(
    append: (body: Record<string, unknown>) => Promise<unknown>,
    logger: Logger,
    minAgeMs = SWEEP_MIN_AGE_MS,
  ): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      for (const { entry, settlement } of await this.flow.recover(minAgeMs)) {
        if (settlement.status === 'unknown') continue;
        await append({ event: 'resolved', ...paymentFacts(entry.grantId, entry.budgetId, settlement) });
        logger.info('held payment resolved from the rail', { budget_id: entry.budgetId, status: settlement.status });
      }
    } catch (e) {
      logger.warn('payment sweep failed; retrying later', { error: e });
    } finally {
      this.#sweeping = false;
    }
  }
}

/** Older than any call can run (connector timeouts are at most 120 s). */
const SWEEP_MIN_AGE_MS = 10 * 60_000;

/** The public facts of a payment: what receipts, `_meta` and logs may say. Never a key or signature. */
export function paymentFacts(
  grantId: string,
  budgetId: string,
  s: {
    status: string;
    rail: string;
    network: string;
    asset: string;
    payee: string;
    amount: string;
    fee?: string;
    txRef?: string;
    note?: string;
  },
): Record<string, string> {
  return {
    status: s.status,
    rail: s.rail,
    network: s.network,
    asset: s.asset,
    payee: s.payee,
    amount: s.amount,
    ...(s.fee ? { fee: s.fee } : {}),
    grant_id: grantId,
    budget_id: budgetId,
    ...(s.txRef ? { tx: s.txRef } : {}),
    ...(s.note ? { note: s.note.slice(0, 300) } : {}),
  };
}
