export {
  Logger,
  escapeInvisible,
  type LogLevel,
  type LogFields,
  type LoggerOptions,
  type LineScrubber,
} from './logger.ts';
