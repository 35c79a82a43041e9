/**
 * Node/V8 flags for a daemon process the CLI starts (`start --detach`, the systemd unit, the
 * launchd agent). V8 reads them only at process start-up, so a foreground `briefcase start` runs
 * without them.
 *
 * `--max-semi-space-size=2`: V8's young generation otherwise grows to 3 × 16 MiB on a daemon that
 * allocates a little per call; capped at 2 MiB per semi-space the daemon's resident memory after
 * 3,000 echo calls went from 179–187 to 138–147 MiB, CPU per call unchanged within noise
 * (issue 13, docs/benchmarks.md § Issue 13).
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
