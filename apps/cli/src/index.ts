export { mcpClientConfig, inspectorCommand } from './commands/start.ts';
export { doctorChecks, type Check } from './commands/doctor.ts';
