export { DaemonConnection, DaemonError, type PendingOperation, type RequestOptions } from './connection.ts';
