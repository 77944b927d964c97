// The cluster logs through the one shared structured logger (src-shared/logger.ts, on pino, with
// redaction of secrets); this module keeps the cluster's import path stable.
export {
  createLogger,
  createMemoryLogger,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from '../../src-shared/logger.ts';
