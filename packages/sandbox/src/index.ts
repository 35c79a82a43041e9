export { findExecutable, resetSandboxAvailability, sandboxAvailable, type SandboxAvailability } from './available.ts';
export {
  bwrapCommand,
  nodeRuntimeDir,
  PROXY_SOCKET_IN_SANDBOX,
  RUNTIME_RESERVE_MB,
  type SandboxCommand,
  type SandboxSpec,
} from './argv.ts';
export { pidsCgroup, pidsLimitHits, processLimitHolds } from './cgroup.ts';
export { sandboxExecCommand, sbplProfile, sbplString, type SbplProfile, type SbplSpec } from './sbpl.ts';
export { isolationSupport, type IsolationSupport } from './platform.ts';
