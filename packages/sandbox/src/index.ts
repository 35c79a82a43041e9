export { findExecutable, resetSandboxAvailability, sandboxAvailable, type SandboxAvailability } from './available.ts';
export {
  bwrapCommand,
  nodeRuntimeDir,
  PROXY_SOCKET_IN_SANDBOX,
  RUNTIME_RESERVE_MB,
  type SandboxCommand,
  type SandboxSpec,
} from './argv.ts';
export { pidsCgroup, processLimitHolds } from './cgroup.ts';
