export { Logger, type LogLevel, type LogFields, type LoggerOptions, type LineScrubber } from './logger.ts';
