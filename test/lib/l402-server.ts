/**
 * A test-owned L402 server written from bLIP-26 (the role Aperture plays in production): it prices
 * every request, mints a macaroon whose identifier commits to the invoice's payment hash
 * (version u16 ‖ payment_hash[32] ‖ token_id[32], big-endian, as Aperture does), takes invoices
 * from bob's real LND, and accepts `Authorization: L402 <macaroon>:<preimage hex>` (or `LSAT`)
 * when the HMAC chain verifies under the token's root key, the caveats hold, and
 * sha256(preimage) = payment_hash. Revocation deletes root keys (bLIP-26), so a revoked token
 * gets 401 and the client has to pay again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import macaroon from 'macaroon';
import type { LndNode } from './lnd-regtest.ts';

export interface L402Server {
  url: string;
  /** Challenges issued (each one is an invoice). */
  readonly challenges: number;
  /** Requests answered 200 with a valid token. */
  readonly served: number;
  /** Payment hashes of the invoices issued, in order. */
  readonly paymentHashes: string[];
  /** bLIP-26 revocation: forget every root key; every token issued so far is now refused. */
  revokeAll(): void;
  /** Hostile modes: answer a valid paid token with this status instead of serving it. */
  answerPaidWith: number | undefined;
  /** Replace the next challenge's invoice (hostile-server tests). */
  nextInvoice: (() => Promise<{ invoice: string; paymentHash: string }>) | undefined;
  close(): Promise<void>;
}

const SERVICE_CAVEAT = 'services=weather:0';

export async function startL402Server(bob: LndNode, priceSat: number): Promise<L402Server> {
  const rootKeys = new Map<string, Buffer>();
  const paymentHashes: string[] = [];
  let challenges = 0;
  let served = 0;
  const state: { next: L402Server['nextInvoice']; answer: number | undefined } = {
    next: undefined,
    answer: undefined,
  };

  const bobInvoice = async () => {
    const r = await bob.rest<{ payment_request: string; r_hash: string }>('POST', '/v1/invoices', {
      value: String(priceSat),
      memo: 'weather API call',
      expiry: '600',
    });
    return { invoice: r.payment_request, paymentHash: Buffer.from(r.r_hash, 'base64').toString('hex') };
  };

  const verify = (header: string): boolean => {
    const m = /^(?:L402|LSAT) ([A-Za-z0-9+/=_-]+):([0-9a-f]{64})$/i.exec(header);
    if (!m?.[1] || !m[2]) return false;
    try {
      const mac = macaroon.importMacaroon(m[1]);
      const id = Buffer.from(mac.identifier);
      if (id.length !== 66 || id.readUInt16BE(0) !== 0) return false;
      const paymentHash = id.subarray(2, 34).toString('hex');
      const rootKey = rootKeys.get(id.subarray(34).toString('hex'));
      if (!rootKey) return false; // revoked or never issued
      mac.verify(rootKey, (c) => {
        const text = typeof c === 'string' ? c : Buffer.from(c).toString('utf8');
        return text === SERVICE_CAVEAT ? null : `caveat not satisfied: ${text}`;
      });
      return createHash('sha256').update(Buffer.from(m[2], 'hex')).digest('hex') === paymentHash;
    } catch {
      return false;
    }
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const auth = req.headers.authorization;
      if (req.url?.startsWith('/free/')) {
        // The same handler without the price (the benchmark's unpaid baseline).
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ forecast: 'sunny' }));
        return;
      }
      if (auth) {
        if (!verify(auth)) {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid L402 token"}');
          return;
        }
        if (state.answer) {
          res.writeHead(state.answer, { 'content-type': 'application/json' }).end('{"error":"took your sats"}');
          return;
        }
        served++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ forecast: 'sunny', served }));
        return;
      }
      const { invoice, paymentHash } = await (state.next ?? bobInvoice)();
      state.next = undefined;
      const tokenId = randomBytes(32);
      const rootKey = randomBytes(32);
      rootKeys.set(tokenId.toString('hex'), rootKey);
      const identifier = Buffer.concat([Buffer.from([0, 0]), Buffer.from(paymentHash, 'hex'), tokenId]);
      const mac = macaroon.newMacaroon({ identifier, rootKey, location: 'weather', version: 2 });
      mac.addFirstPartyCaveat(SERVICE_CAVEAT);
      const b64 = Buffer.from(mac.exportBinary()).toString('base64');
      challenges++;
      paymentHashes.push(paymentHash);
      // Both scheme names, as Aperture sends them; the client must pick one offer, not pay twice.
      res.setHeader('www-authenticate', [
        `LSAT macaroon="${b64}", invoice="${invoice}"`,
        `L402 macaroon="${b64}", invoice="${invoice}"`,
      ]);
      res.writeHead(402, { 'content-type': 'application/json' }).end('{"error":"payment required"}');
    })().catch((e: unknown) => {
      res.writeHead(500).end(String(e));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/forecast`,
    get challenges() {
      return challenges;
    },
    get served() {
      return served;
    },
    paymentHashes,
    revokeAll: () => rootKeys.clear(),
    get answerPaidWith() {
      return state.answer;
    },
    set answerPaidWith(v) {
      state.answer = v;
    },
    get nextInvoice() {
      return state.next;
    },
    set nextInvoice(f) {
      state.next = f;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
