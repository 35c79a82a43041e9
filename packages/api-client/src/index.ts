export { DaemonConnection, type RequestOptions } from './connection.ts';
