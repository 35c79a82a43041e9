export {
  Logger,
  escapeInvisible,
  type LogLevel,
  type LogFields,
  type LoggerOptions,
  type LineScrubber,
} from './logger.ts';
export {
  NOOP_TELEMETRY,
  startTelemetry,
  type CallSpan,
  type OutboundSpan,
  type PipelineStage,
  type Telemetry,
} from './tracing.ts';
export { otelRequested } from './otel-env.ts';
export { ServerLog, type ServerLogOptions } from './server-log.ts';
export { redactTokenShapes } from './token-shapes.ts';
