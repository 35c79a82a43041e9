export { CodeTool, MANIFEST_FILE, type CodeToolOutcome } from './code-tool.ts';
export { CodeToolManifest, MAX_CODE_BYTES } from './manifest.ts';
export { Host, HostRefusal, HTTP_LIMITS, type HostDeps, type EgressRulesLike, type HttpReply } from './host.ts';
export { KV_LIMITS, KvStore } from './kv.ts';
export { grantAllows } from './grants.ts';
export { checkWasmModule, WASM_HOST_IMPORTS } from './wasm-check.ts';
export { LimitExceeded, type RunLimits } from './limits.ts';
