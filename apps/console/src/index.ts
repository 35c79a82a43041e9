export type * from './backend.ts';
export { startConsole, ConsoleBindError } from './server.ts';
export type { ConsoleHandle, ConsoleOptions, ConsoleLogger } from './server.ts';
