export { mcpClientConfig, inspectorCommand } from './host-config.ts';
export { doctorChecks, type Check } from './commands/doctor.ts';
