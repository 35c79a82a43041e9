import { z } from 'zod';

/**
 * What a tool may reach (issue 10): one manifest for every tool kind — a stdio MCP server or
 * command tool (run under the OS sandbox), a code tool (QuickJS or WebAssembly, in the daemon),
 * an HTTP remote server or connector (the daemon's own egress). Nothing is granted by default:
 * no filesystem beyond the tool's own directory, no network, no environment, no secrets.
 * Widening a manifest is a guarded change (docs/passkeys.md) and every change is receipted.
 */

const EnvVar = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name');
const SecretName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'not a vault secret name');

/**
 * A network grant: `host`, `host:port`, `*.domain` (subdomains only) or an IP literal
 * (`[::1]:8080`, `10.0.0.5:5432`). Without a port, 80 and 443. Loopback, link-local, private and
 * metadata addresses are refused unless granted by an IP literal or `allow_private` — and names
 * are resolved and checked against the same rules, so DNS rebinding fails.
 */
export const NetworkGrant = z
  .string()
  .min(1)
  .max(260)
  .regex(
    /^(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/,
    'host, host:port, *.domain or [ipv6]:port',
  );

export const FilesystemGrant = z
  .object({
    /**
     * Absolute path, or `$TOOL_DIR/…` (the tool's own directory under the data dir's tools/ —
     * never the data dir itself), `$HOME/…` (the person's home). No `..`.
     */
    path: z
      .string()
      .min(1)
      .max(4096)
      .refine((p) => !p.split('/').includes('..'), 'no ".." in a granted path')
      .refine(
        (p) => p.startsWith('/') || p.startsWith('$TOOL_DIR') || p.startsWith('$HOME'),
        'an absolute path, $TOOL_DIR/… or $HOME/…',
      ),
    access: z.enum(['ro', 'rw']),
  })
  .strict();

export const AccessLimits = z
  .object({
    memory_mb: z.number().int().min(16).max(65_536).default(512),
    processes: z.number().int().min(1).max(4096).default(64),
    cpu_seconds: z.number().int().min(1).max(86_400).default(600),
    open_files: z.number().int().min(16).max(65_536).default(256),
    /** Wall-clock budget of one call (code tools; MCP servers use the server's timeout_ms). */
    call_ms: z.number().int().min(10).max(600_000).default(10_000),
  })
  .strict();

export const AccessManifest = z
  .object({
    /** `none` runs the tool with the daemon's user's access: only after a person confirms it. */
    isolation: z.enum(['sandbox', 'none']).default('sandbox'),
    filesystem: z.array(FilesystemGrant).max(64).default([]),
    network: z.array(NetworkGrant).max(256).default([]),
    /** Grant loopback, link-local and private ranges that a `network` entry names (never metadata). */
    allow_private: z.boolean().default(false),
    /** Names of the daemon's environment variables passed through (stdio servers, command tools). */
    env: z.array(EnvVar).max(64).default([]),
    /** Vault secrets by name; for processes, as environment variables: `{ "GITHUB_TOKEN": "github" }`. */
    secrets: z.record(EnvVar, SecretName).default({}),
    limits: AccessLimits.default({
      memory_mb: 512,
      processes: 64,
      cpu_seconds: 600,
      open_files: 256,
      call_ms: 10_000,
    }),
  })
  .strict();
export type AccessManifest = z.infer<typeof AccessManifest>;
export type NetworkGrant = z.infer<typeof NetworkGrant>;
export type FilesystemGrant = z.infer<typeof FilesystemGrant>;

/** Nothing at all: the default for every tool. */
export const NO_ACCESS: AccessManifest = AccessManifest.parse({});
