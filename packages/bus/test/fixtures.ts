import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  SyncReason,
  type MessageInitShape,
  type ConversationSyncSchema,
} from '@topicdesk/contracts';
import type { BusLogger } from '../src/index';

/**
 * What @topicdesk/telemetry does in a service, plus an in-memory exporter to look at spans.
 * Once per test file (each file runs in its own process).
 */
export function setupTracing(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  return exporter;
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps what it is told, so tests can assert that failures are reported. */
export function collectingLogger(): BusLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (fields: Record<string, unknown>, message: string): void => {
      entries.push({ level, message, fields });
    };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export function sync(index: number): MessageInitShape<typeof ConversationSyncSchema> {
  return { tenantId: 'default', conversationId: `c-${index}`, reason: SyncReason.VISITOR_MESSAGE };
}

export function indexOf(conversationId: string): number {
  return Number(conversationId.slice(2));
}

/** Polls until `check` stops throwing (returns its value) or the time is up (rethrows). */
export async function eventually<T>(check: () => T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(10);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
