export { mcpClientConfig, mcpServerEntry, inspectorCommand } from './mcp-entry.ts';
export { doctorChecks, type Check } from './commands/doctor.ts';
