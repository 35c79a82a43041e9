/**
 * The L402 rail's configuration, as the daemon reads it (a config file holds no secret: the LND
 * macaroon is named, and lives in the vault). See docs/payments-l402.md.
 */
import { readFileSync } from 'node:fs';
import { err, ok, type Result } from '@briefcase/protocol';
import { z } from 'zod';
import { L402Backend } from './backend.ts';
import { LIGHTNING_NETWORKS } from './invoice.ts';
import type { SecretValue } from './redacted.ts';

export const L402ConfigSchema = z
  .object({
    /** lnd's REST listener, e.g. `https://127.0.0.1:8080`. */
    restUrl: z.url({ protocol: /^https$/ }),
    /** Path to lnd's `tls.cert`: the only certificate the connection accepts. */
    tlsCertPath: z.string().min(1),
    /** Vault secret name holding the hex macaroon baked for SendPaymentV2 + TrackPaymentV2. */
    macaroonSecret: z.string().min(1),
    /** BOLT11 prefix of the network lnd pays on: `bc` mainnet, `tb` testnet, `tbs` signet, `bcrt` regtest. */
    network: z.enum(Object.keys(LIGHTNING_NETWORKS) as [keyof typeof LIGHTNING_NETWORKS]),
    /** Routing fees accepted per payment, msat (also bounded by each payment's authorization). */
    maxFeeMsat: z
      .string()
      .regex(/^(0|[1-9][0-9]{0,15})$/)
      .default('10000'),
    payTimeoutSeconds: z.number().int().min(5).max(600).default(60),
  })
  .strict();
export type L402Config = z.infer<typeof L402ConfigSchema>;

/** Validate raw config; the error says which field is wrong and why. */
export function parseL402Config(raw: unknown, where = 'payments.l402'): Result<L402Config> {
  const r = L402ConfigSchema.safeParse(raw);
  if (r.success) return ok(r.data);
  const issue = r.error.issues[0];
  return err(`${where}.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
}

/** Build the backend; `secret(name)` reads the macaroon from the vault. */
export function l402BackendFromConfig(cfg: L402Config, secret: (name: string) => SecretValue): L402Backend {
  return new L402Backend({
    lnd: {
      restUrl: cfg.restUrl,
      tlsCertPem: readFileSync(cfg.tlsCertPath, 'utf8'),
      macaroon: secret(cfg.macaroonSecret),
    },
    network: `lightning:${cfg.network}`,
    maxFeeMsat: BigInt(cfg.maxFeeMsat),
    payTimeoutSeconds: cfg.payTimeoutSeconds,
  });
}
