import type { PinoLogger } from 'nestjs-pino';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import type { Logger as Pino } from 'pino';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/**
 * Nest's application logger (`app.useLogger(app.get(ObservabilityLogger))`,
 * installed for you by default). It is nestjs-pino's `Logger`, with its
 * handling of Nest's logging contracts, bound to this application's own JSON
 * logger rather than nestjs-pino's process-wide root, so two apps in one
 * process each log with their own settings.
 */
export class ObservabilityLogger extends NestPinoLogger {
  constructor(pino: Pino) {
    const forward =
      (level: Level) =>
      (...args: unknown[]) =>
        (pino[level] as (...a: unknown[]) => void)(...args);
    const bound = {
      trace: forward('trace'),
      debug: forward('debug'),
      info: forward('info'),
      warn: forward('warn'),
      error: forward('error'),
      fatal: forward('fatal'),
    };
    super(bound as unknown as PinoLogger, {});
  }
}
