export {
  DaemonConnection,
  DaemonError,
  startAdvice,
  type PendingOperation,
  type RequestOptions,
} from './connection.ts';
export { CallStream, NO_STREAM, type StreamCallOptions } from './call-stream.ts';
