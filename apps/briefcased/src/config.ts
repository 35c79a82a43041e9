import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { BriefcaseError, err, ok, SECRET_REF, type Result } from '@briefcase/protocol';
import { DAEMON_ONLY_PREFIXES } from '@briefcase/vault';
import { cli } from './cli-hint.ts';

/** Vault names of payment credentials: daemon-only (the vault never gives them to a tool). */
const PAYMENT_SECRET_PREFIX = 'payments.' satisfies keyof typeof DAEMON_ONLY_PREFIXES;

export const BudgetCapConfig = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
    scope: z.enum(['tool', 'category', 'all']),
    match: z.string().optional(),
    window: z.enum(['call', 'day', 'month']),
    limit: z.number().int().min(0),
    on_exceed: z.enum(['approval', 'deny']).default('approval'),
  })
  .strict()
  .refine((c) => c.scope === 'all' || (c.match !== undefined && c.match.length > 0), {
    message: 'a tool or category cap needs "match" (the tool name or category)',
  });

/** Unix sockets: sun_path holds 108 bytes on Linux and 104 on macOS, with the final NUL. */
const MAX_SOCKET_PATH_BYTES = 103;

/**
 * The agent socket: mode 0660, owned by `group`, so membership of that group is the agent
 * credential. A name as useradd(8) accepts it, or a numeric gid.
 */
export const AgentSocketConfig = z
  .object({
    path: z
      .string()
      .refine((p) => p.startsWith('/'), { message: 'must be an absolute path' })
      .refine((p) => Buffer.byteLength(p) <= MAX_SOCKET_PATH_BYTES, {
        message: `must be at most ${MAX_SOCKET_PATH_BYTES} bytes (a Unix socket path limit)`,
      })
      .refine((p) => !p.split('/').includes('..'), { message: 'must not contain ".."' }),
    group: z.string().regex(/^([a-z_][a-z0-9_-]{0,31}|[0-9]{1,10})$/, {
      message: 'must be a group name (lower case letters, digits, _ and -) or a numeric gid',
    }),
  })
  .strict();
export type AgentSocketConfig = z.infer<typeof AgentSocketConfig>;

/** The daemon's configuration file, `$BRIEFCASE_HOME/config.json`. It never holds a secret. */
export const Config = z
  .object({
    version: z.literal(1),
    daemon: z
      .object({
        http: z
          .object({
            enabled: z.boolean().default(false),
            host: z.string().default('127.0.0.1'),
            port: z.number().int().min(1).max(65535).default(38081),
          })
          .strict()
          .default({ enabled: false, host: '127.0.0.1', port: 38081 }),
        /** A second API socket on which every connection is the agent, no token (docs/service.md). */
        agent_socket: AgentSocketConfig.optional(),
      })
      .strict()
      .default({ http: { enabled: false, host: '127.0.0.1', port: 38081 } }),
    console: z
      .object({
        /** The web console on http://localhost:PORT (loopback only). A port in use is a warning, not a stop. */
        enabled: z.boolean().default(true),
        port: z.number().int().min(0).max(65_535).default(38080),
      })
      .strict()
      .default({ enabled: true, port: 38080 }),
    approvals: z
      .object({
        ttl_seconds: z.number().int().min(1).max(86_400).default(600),
        /** How long the gateway holds a tools/call open while an approval is pending. */
        wait_seconds: z.number().int().min(0).max(3600).default(120),
        /** Approvals one requester may have waiting for a person at once; more are `rate_limited`. */
        max_pending: z.number().int().min(1).max(10_000).default(20),
      })
      .strict()
      .default({ ttl_seconds: 600, wait_seconds: 120, max_pending: 20 }),
    notifications: z
      .object({
        /** A desktop notification when an approval or a guarded change waits (docs/approvals.md). */
        desktop: z.boolean().default(true),
      })
      .strict()
      .default({ desktop: true }),
    budgets: z
      .object({
        currency: z.string().default('USD'),
        caps: z.array(BudgetCapConfig).default([]),
      })
      .strict()
      .default({ currency: 'USD', caps: [] }),
    receipts: z
      .object({
        checkpoint_every: z.number().int().min(1).max(100_000).default(100),
        checkpoint_seconds: z.number().int().min(1).max(86_400).default(30),
      })
      .strict()
      .default({ checkpoint_every: 100, checkpoint_seconds: 30 }),
    limits: z
      .object({
        max_request_bytes: z
          .number()
          .int()
          .min(1024)
          .max(64 * 1024 * 1024)
          .default(1024 * 1024),
        max_result_bytes: z
          .number()
          .int()
          .min(1024)
          .max(64 * 1024 * 1024)
          .default(1024 * 1024),
        /** How long a call waits for a database write lock held by another process, then `unavailable`. */
        db_lock_wait_seconds: z.number().int().min(1).max(600).default(30),
      })
      .strict()
      .default({ max_request_bytes: 1024 * 1024, max_result_bytes: 1024 * 1024, db_lock_wait_seconds: 30 }),
    demo: z
      .object({
        enabled: z.boolean().default(false),
        api_port: z.number().int().min(0).max(65535).default(38089),
      })
      .strict()
      .default({ enabled: false, api_port: 38089 }),
    payments: z
      .object({
        /** JSON-RPC endpoint per CAIP-2 network (x402 on EVM), e.g. {"eip155:8453": "https://…"}. */
        rpc: z.record(z.string().regex(/^eip155:[0-9]{1,12}$/, 'a CAIP-2 eip155 chain id'), z.url()).default({}),
        /** L402 through your LND node (docs/payments-l402.md); the macaroon is named, kept in the vault. */
        l402: z
          .object({
            rest_url: z.url({ protocol: /^https$/ }),
            tls_cert_path: z.string().min(1),
            /**
             * `{{secret:payments.NAME}}`: the vault secret holding the pay-only macaroon (hex). A
             * `payments.` name is daemon-only: no connector or remote server may reference it.
             */
            macaroon_secret: z
              .string()
              .regex(/^\{\{secret:[A-Za-z0-9._-]{1,100}\}\}$/, 'a {{secret:NAME}} reference to the vault')
              .superRefine((ref, ctx) => {
                const name = ref.slice('{{secret:'.length, -2);
                if (name.startsWith(PAYMENT_SECRET_PREFIX)) return;
                const renamed = `${PAYMENT_SECRET_PREFIX}${name}`.slice(0, 64);
                ctx.addIssue({
                  code: 'custom',
                  message:
                    `names "${name}", which a connector or remote server could send out; the LND macaroon must ` +
                    `have a daemon-only name starting with "${PAYMENT_SECRET_PREFIX}". Store it again with ` +
                    `\`${cli('secrets', 'set', renamed)}\` (paste the hex), set macaroon_secret to ` +
                    `"{{secret:${renamed}}}", then \`${cli('secrets', 'rm', name)}\``,
                });
              }),
            network: z.enum(['bc', 'tb', 'tbs', 'bcrt', 'sb']),
            max_fee_msat: z
              .string()
              .regex(/^(0|[1-9][0-9]{0,15})$/)
              .default('10000'),
            pay_timeout_seconds: z.number().int().min(5).max(600).default(60),
          })
          .strict()
          .optional(),
        /**
         * Held payments (a settlement that could not be verified) are asked of the rail again every
         * `interval_seconds`, once older than `min_age_seconds`; one is released only after its
         * authorization expired unused, so a small age is safe, just more chain look-ups.
         */
        sweep: z
          .object({
            interval_seconds: z.number().int().min(1).max(3600).default(60),
            min_age_seconds: z.number().int().min(0).max(86_400).default(600),
          })
          .strict()
          .optional(),
        /** The first payment to a payee never paid before needs a person's approval (docs/approvals.md). */
        approve_new_payees: z.boolean().default(false),
      })
      .strict()
      .default({ rpc: {}, approve_new_payees: false }),
    keys: z
      .object({
        /** Roles whose key must be non-exportable (on a token): a software key refuses the start. */
        strict: z.array(z.enum(['identity', 'receipts', 'dpop'])).default([]),
      })
      .strict()
      .default({ strict: [] }),
    log: z
      .object({ level: z.enum(['debug', 'info', 'warn', 'error']).default('info') })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();
export type Config = z.infer<typeof Config>;

const SECRETISH_KEY = /pass(word|phrase)?$|secret$|token$|api[-_]?key$|private[-_]?key$|credential/i;
const SECRETISH_VALUE =
  /^(sk-|sk_live_|ghp_|gho_|github_pat_|xox[abp]-|AKIA|AIza|Bearer\s)|-----BEGIN [A-Z ]*PRIVATE KEY/;

/**
 * Values that look like secrets, by key name or by shape. Config and manifests reference secrets
 * by name (`{{secret:NAME}}`); a literal secret in them is refused with its path.
 */
export function findSecretValues(value: unknown, path = ''): string[] {
  const found: string[] = [];
  const visit = (v: unknown, p: string, key: string) => {
    if (typeof v === 'string') {
      const withoutRefs = v.replace(SECRET_REF, '');
      if (SECRETISH_VALUE.test(withoutRefs.trim())) found.push(`${p || '(root)'}: looks like a literal secret`);
      else if (SECRETISH_KEY.test(key) && withoutRefs.trim().length > 0 && v === withoutRefs) {
        found.push(`${p}: a "${key}" must be a {{secret:NAME}} reference, not a literal value`);
      }
      return;
    }
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) visit(item, `${p}[${i}]`, key);
    } else if (v !== null && typeof v === 'object') {
      // An access manifest's `secrets` maps a variable (`GITHUB_TOKEN`) to a vault secret's *name*:
      // the key says "token" but the value is a reference, so only its shape is checked.
      const names = p === 'access.secrets' || p.endsWith('.access.secrets');
      for (const [k, child] of Object.entries(v)) visit(child, p ? `${p}.${k}` : k, names ? '' : k);
    }
  };
  visit(value, path, '');
  return found;
}

export function formatIssues(file: string, error: z.ZodError): string[] {
  return error.issues.map((i) => `${file}: ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
}

/** Validate a parsed config; every error carries the file, the path and the reason. */
export function parseConfig(file: string, raw: unknown): Result<Config, string[]> {
  const secrets = findSecretValues(raw).map((m) => `${file}: ${m} (store it with \`${cli('secrets', 'set')}\`)`);
  if (secrets.length > 0) return err(secrets);
  const parsed = Config.safeParse(raw);
  if (!parsed.success) return err(formatIssues(file, parsed.error));
  return ok(parsed.data);
}

export function loadConfig(file: string): Config {
  if (!existsSync(file)) {
    throw new BriefcaseError('invalid_config', `${file} does not exist: run \`${cli('init')}\``);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BriefcaseError('invalid_config', `${file}: not valid JSON: ${(e as Error).message}`);
  }
  const result = parseConfig(file, raw);
  if (!result.ok) throw new BriefcaseError('invalid_config', result.error.join('\n'));
  return result.value;
}

export function defaultConfig(demo: boolean): Config {
  return Config.parse({ version: 1, demo: { enabled: demo } });
}
