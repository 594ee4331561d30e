import { type Logger, pino } from 'pino';

/**
 * Structured logs. Numbers never reach a log in clear (R1.10): code logs only masked numbers, and
 * these paths are redacted as a second line of defence.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'switchboard' },
      redact: {
        paths: [
          'number',
          '*.number',
          'destination',
          '*.destination',
          'password',
          '*.password',
          'eslPassword',
          '*.eslPassword',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? process.stdout,
  );
}
