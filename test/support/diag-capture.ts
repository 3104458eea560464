// OpenTelemetry's diag output, recorded for assertions: every message at every level, and those of
// this package's component logger.

import { diag, DiagLogLevel } from '@opentelemetry/api';
import type { DiagLogger } from '@opentelemetry/api';

const NAMESPACE = 'opentelemetry-exporter-posthog';

export type DiagLevel = 'error' | 'warn' | 'info' | 'debug' | 'verbose';

export interface DiagCapture {
  /** Every diag message, the component namespace (if any) first. */
  readonly entries: Array<{ level: DiagLevel; text: string }>;
  /** Messages of one level from any component. */
  all(level: DiagLevel): string[];
  /** Messages of one level from this package's component logger. */
  ours(level: DiagLevel): string[];
  stop(): void;
}

/** Installs a DiagLogger that records everything at every level; `stop()` removes it. */
export function captureDiag(): DiagCapture {
  const entries: Array<{ level: DiagLevel; text: string }> = [];
  const recorder =
    (level: DiagLevel) =>
    (...args: unknown[]): void => {
      entries.push({
        level,
        text: args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(' '),
      });
    };
  const logger: DiagLogger = {
    error: recorder('error'),
    warn: recorder('warn'),
    info: recorder('info'),
    debug: recorder('debug'),
    verbose: recorder('verbose'),
  };
  diag.disable();
  diag.setLogger(logger, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
  return {
    entries,
    all: (level) => entries.filter((e) => e.level === level).map((e) => e.text),
    ours: (level) => entries.filter((e) => e.level === level && e.text.startsWith(`${NAMESPACE} `)).map((e) => e.text),
    stop: () => diag.disable(),
  };
}

/** Configuration is reported on the next turn of the event loop (or at the first export). */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function withDiag(body: (d: DiagCapture) => Promise<void>): Promise<void> {
  const d = captureDiag();
  try {
    await body(d);
  } finally {
    d.stop();
  }
}
