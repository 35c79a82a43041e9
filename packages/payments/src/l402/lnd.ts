/**
 * Paying an invoice through LND's REST gateway: routerrpc `SendPaymentV2` (`POST /v2/router/send`,
 * server-streaming; the current call — `SendPaymentSync` is legacy) and `TrackPaymentV2`
 * (`GET /v2/router/track/{hash}`) for crash recovery. TLS is pinned to lnd's own certificate; the
 * macaroon should be one baked for these two calls only (docs/payments.md, "L402 with LND"):
 *   lncli bakemacaroon uri:/routerrpc.Router/SendPaymentV2 uri:/routerrpc.Router/TrackPaymentV2
 */
import { createHash } from 'node:crypto';
import { request } from 'node:https';
import { PaymentError } from '../errors.ts';
import { Redacted, type SecretValue } from './redacted.ts';

export type { SecretValue };

export interface LndConfig {
  /** `https://host:port` of lnd's REST listener. */
  restUrl: string;
  /** lnd's `tls.cert` (PEM): the only certificate accepted for this connection. */
  tlsCertPem: string;
  /** Hex macaroon, from the vault. */
  macaroon: SecretValue;
}

/** A finished payment as LND reports it. `preimage` is secret: it is the L402 proof. */
export interface LndPayment {
  status: 'SUCCEEDED' | 'FAILED' | 'IN_FLIGHT' | 'INITIATED' | 'UNKNOWN';
  paymentHash: string;
  valueMsat: string;
  feeMsat: string;
  preimage: SecretValue | undefined;
  failureReason: string | undefined;
}

interface RawPayment {
  payment_hash?: string;
  value_msat?: string;
  fee_msat?: string;
  payment_preimage?: string;
  status?: string;
  failure_reason?: string;
}

const STATUSES = new Set(['SUCCEEDED', 'FAILED', 'IN_FLIGHT', 'INITIATED']);
const MAX_BODY = 1 << 20;

function toPayment(raw: RawPayment): LndPayment {
  const status = STATUSES.has(raw.status ?? '') ? (raw.status as LndPayment['status']) : 'UNKNOWN';
  const pre = raw.payment_preimage ?? '';
  const hash = raw.payment_hash ?? '';
  // LND reports a zero preimage until the payment succeeds; only a preimage that hashes to the
  // payment hash is a proof (the stateless check an L402 server makes).
  const valid =
    /^[0-9a-f]{64}$/.test(pre) && createHash('sha256').update(Buffer.from(pre, 'hex')).digest('hex') === hash;
  return {
    status,
    paymentHash: hash,
    valueMsat: /^[0-9]+$/.test(raw.value_msat ?? '') ? String(raw.value_msat) : '0',
    feeMsat: /^[0-9]+$/.test(raw.fee_msat ?? '') ? String(raw.fee_msat) : '0',
    preimage: valid ? new Redacted(pre) : undefined,
    failureReason: raw.failure_reason,
  };
}

/**
 * Read a grpc-gateway stream (one JSON object per line, `{"result": …}` or `{"error": …}`) until
 * a final payment state. Resolves with the last payment seen.
 */
function streamCall(cfg: LndConfig, method: string, path: string, body?: unknown): Promise<LndPayment> {
  return new Promise((res, rej) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      new URL(path, cfg.restUrl),
      {
        method,
        ca: cfg.tlsCertPem,
        // lnd's certificate names 127.0.0.1/localhost; pinning it as the only CA is the check.
        headers: {
          'grpc-metadata-macaroon': cfg.macaroon.expose(),
          ...(data ? { 'content-type': 'application/json' } : {}),
        },
      },
      (resp) => {
        let buf = '';
        let last: LndPayment | undefined;
        let done = false;
        const finish = (err?: Error) => {
          if (done) return;
          done = true;
          resp.destroy();
          if (err) rej(err);
          else if (last) res(last);
          else rej(new Error(`lnd answered ${resp.statusCode} without a payment`));
        };
        resp.setEncoding('utf8');
        const failed = (resp.statusCode ?? 0) >= 400;
        resp.on('data', (chunk: string) => {
          if (failed) {
            buf += chunk;
            if (buf.length > MAX_BODY) finish(new Error('lnd answer too large'));
            return;
          }
          buf += chunk;
          if (buf.length > MAX_BODY) return finish(new Error('lnd answer too large'));
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            let msg: { result?: RawPayment; error?: { message?: string } } & RawPayment;
            try {
              msg = JSON.parse(line) as typeof msg;
            } catch {
              return finish(new Error('lnd sent a line that is not JSON'));
            }
            if (msg.error) return finish(new Error(`lnd: ${msg.error.message ?? 'error'}`));
            last = toPayment(msg.result ?? msg);
            if (last.status === 'SUCCEEDED' || last.status === 'FAILED') return finish();
          }
        });
        resp.on('end', () => {
          if (failed) {
            let message = buf.slice(0, 300);
            try {
              const m = JSON.parse(buf) as { message?: string; error?: { message?: string } };
              message = m.error?.message ?? m.message ?? message;
            } catch {
              // not JSON: keep the text
            }
            return finish(new Error(`lnd ${resp.statusCode}: ${message}`));
          }
          if (!done && buf.trim()) {
            try {
              const msg = JSON.parse(buf) as { result?: RawPayment; error?: { message?: string; code?: number } };
              if (msg.error) return finish(new Error(`lnd ${resp.statusCode}: ${msg.error.message ?? 'error'}`));
              last = toPayment(msg.result ?? (msg as RawPayment));
            } catch {
              return finish(new Error(`lnd ${resp.statusCode}: ${buf.slice(0, 200)}`));
            }
          }
          finish();
        });
        resp.on('error', finish);
      },
    );
    req.on('error', rej);
    req.setTimeout(180_000, () => req.destroy(new Error('lnd did not answer in 180 s')));
    if (data) req.write(data);
    req.end();
  });
}

export interface SendOptions {
  /** Routing fees the payer accepts on top of the amount, in msat. */
  feeLimitMsat: string;
  /** How long LND keeps trying routes. */
  timeoutSeconds: number;
}

/**
 * Pay `invoice` and wait for the outcome. A transport error (lnd unreachable) is
 * `payment_rejected` only when nothing can have been sent; once the request went out the outcome
 * is unknown and the caller must `trackPayment` (crash recovery) before counting anything.
 */
export async function sendPayment(cfg: LndConfig, invoice: string, opts: SendOptions): Promise<LndPayment> {
  return streamCall(cfg, 'POST', '/v2/router/send', {
    payment_request: invoice,
    timeout_seconds: opts.timeoutSeconds,
    fee_limit_msat: opts.feeLimitMsat,
    no_inflight_updates: true,
  });
}

/** The state of an earlier payment by hash (TrackPaymentV2), for crash recovery. */
export async function trackPayment(cfg: LndConfig, paymentHash: string): Promise<LndPayment> {
  if (!/^[0-9a-f]{64}$/.test(paymentHash)) throw new PaymentError('malformed_challenge', 'not a payment hash');
  // grpc-gateway reads a bytes path parameter as padded base64 (standard, else URL alphabet).
  // The URL alphabet: a standard '/' would split the path and hit no route at all.
  const b64 = `${Buffer.from(paymentHash, 'hex').toString('base64url')}=`;
  return streamCall(cfg, 'GET', `/v2/router/track/${b64}?no_inflight_updates=true`);
}
