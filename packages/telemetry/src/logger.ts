import { trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';
import { secretScrubber } from './redact';

export type { Logger } from 'pino';

export interface LoggerOptions {
  service: string;
  level?: string | undefined;
  /** Human-friendly output for one-process mode on a terminal. */
  pretty?: boolean | undefined;
  /** Where lines go instead of stdout (tests). */
  destination?: DestinationStream | undefined;
  /**
   * Values that never reach a log line (`secretValues(process.env)` and whatever secret the
   * process generates). Bot API tokens are scrubbed by their shape whether listed or not.
   */
  secrets?: Iterable<string> | undefined;
}

/**
 * JSON logs with the active trace and span ids on every line, so a log line leads to its trace.
 * Message text is never logged at info level: log ids and lengths, not what visitors wrote.
 * Every line is scrubbed of secrets as a whole, just before it is written: an error's message,
 * its stack, its causes, a URL in any field — wherever a library put the token, it is gone.
 */
export function createLogger(options: LoggerOptions): Logger {
  const scrub = secretScrubber(options.secrets);
  const settings = {
    name: options.service,
    serializers: { err: serializeError },
    hooks: { streamWrite: scrub },
    level: options.level ?? 'info',
    base: { service: options.service },
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },
    ...(options.pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: {
              colorize: true,
              translateTime: 'HH:MM:ss.l',
              ignore: 'pid,hostname,service',
            },
          },
        }
      : {}),
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** Fields of an error that may hold what a visitor or agent wrote, never logged. */
const DATA_FIELDS = ['payload', 'params', 'parameters', 'queryOptions', 'detail'] as const;

/**
 * pino's error serializer, less what an error may carry of a message's text, in it and in its
 * causes: grammY's errors keep the call's `payload` (a sendMessage's text included); Postgres and
 * PGlite errors keep the query's `params` and a `detail` such as `Key (client_id)=(…)`.
 */
function serializeError(error: Error): ReturnType<typeof pino.stdSerializers.err> {
  const serialized = pino.stdSerializers.err(error);
  const scrub = (value: unknown, depth: number) => {
    if (!value || typeof value !== 'object' || depth > 8) return;
    const record = value as Record<string, unknown>;
    for (const field of DATA_FIELDS) delete record[field];
    scrub(record['cause'], depth + 1);
  };
  scrub(serialized, 0);
  return serialized;
}
