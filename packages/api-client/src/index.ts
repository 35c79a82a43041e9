export {
  DaemonConnection,
  DaemonError,
  startAdvice,
  type PendingOperation,
  type RequestOptions,
} from './connection.ts';
