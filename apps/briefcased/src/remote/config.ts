import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AccessManifest, BriefcaseError, PaymentDeclarations } from '@briefcase/protocol';
import { daemonOnly, writeFileAtomic } from '@briefcase/vault';

export const REMOTES_FILE = 'remotes.json';

/** Server names prefix tool names (`name.tool`), so no dots, and short. */
export const RemoteName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,31}$/,
    'server names use 1-32 characters of a-z 0-9 _ - and start with a letter or digit',
  );

const EnvVar = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name');

/** Variables a stdio server gets by default; the daemon's own environment is never passed through. */
export const DEFAULT_ENV_ALLOW = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'USER'];

export const StdioRemote = z
  .object({
    name: RemoteName,
    transport: z.literal('stdio'),
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    cwd: z.string().optional(),
    /** Names of the daemon's environment variables passed through, in addition to the defaults. */
    env_allow: z.array(EnvVar).default([]),
    /** Environment variables set from vault secrets: `{ "GITHUB_TOKEN": "github" }`. */
    env_secrets: z.record(EnvVar, z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/)).default({}),
    timeout_ms: z.number().int().min(100).max(600_000).default(60_000),
    /**
     * What the server may reach (issue 10; packages/protocol/src/access.ts). Absent in configs
     * from before it: then what `remote add` infers for its launcher (remote/infer-access.ts).
     * `env_allow` and `env_secrets` add to its `env` and `secrets`.
     */
    access: AccessManifest.optional(),
    /** The most one tool call may pay when the server asks for payment (x402's MCP transport). */
    payments: PaymentDeclarations.optional(),
  })
  .strict();

/**
 * How the Briefcase identifies itself to the server's authorization server, in the order MCP
 * 2025-11-25 prefers: pre-registered credentials, else a client ID metadata document URL, else
 * dynamic registration (the default when nothing is given).
 */
export const RemoteOAuthConfig = z
  .object({
    client_id: z.string().min(1).optional(),
    /** Vault secret name holding the client secret of a confidential pre-registered client. */
    client_secret_name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      // Sent to the authorization server: never one of the daemon's own credentials.
      .refine((n) => daemonOnly(n) === undefined, {
        message:
          'names a daemon-only secret (a token PIN or payment credential): store the client secret under another name',
      })
      .optional(),
    client_metadata_url: z.url().optional(),
  })
  .strict();
export type RemoteOAuthConfig = z.infer<typeof RemoteOAuthConfig>;

export const HttpRemote = z
  .object({
    name: RemoteName,
    transport: z.literal('http'),
    url: z.url(),
    oauth: RemoteOAuthConfig.default({}),
    timeout_ms: z.number().int().min(100).max(600_000).default(60_000),
    /** Hosts beyond the server's own and its authorization server's (issue 10). */
    access: AccessManifest.optional(),
    /** The most one tool call may pay when the server asks for payment (x402's MCP transport). */
    payments: PaymentDeclarations.optional(),
  })
  .strict();

export const RemoteConfig = z.discriminatedUnion('transport', [StdioRemote, HttpRemote]);
export type RemoteConfig = z.infer<typeof RemoteConfig>;

const RemotesFile = z.object({ v: z.literal(1), servers: z.array(RemoteConfig) }).strict();

export function loadRemotes(home: string): RemoteConfig[] {
  const path = join(home, REMOTES_FILE);
  if (!existsSync(path)) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new BriefcaseError('invalid_config', `${path}: not valid JSON: ${(e as Error).message}`);
  }
  const parsed = RemotesFile.safeParse(raw);
  if (!parsed.success) {
    throw new BriefcaseError(
      'invalid_config',
      parsed.error.issues.map((i) => `${path}: ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n'),
    );
  }
  return parsed.data.servers;
}

export function saveRemotes(home: string, servers: RemoteConfig[]): void {
  writeFileAtomic(join(home, REMOTES_FILE), `${JSON.stringify({ v: 1, servers }, null, 2)}\n`);
}
