// The delivery stage on its own, for unit tests: EventDelivery and its ledger over the real
// CaptureClient, which sends through a ScriptedTransport (no HTTP), all on a ManualClock.

import { CaptureClient } from '../../src/capture/capture-client.ts';
import type { CaptureEvent, DropReason } from '../../src/capture/types.ts';
import { CLIENT_DEFAULTS } from '../../src/config/defaults.ts';
import { uuidv7 } from '../../src/shared/uuid.ts';
import { EventDelivery } from '../../src/delivery/event-delivery.ts';
import type { HealthChange } from '../../src/delivery/health.ts';
import { DeliveryLedger } from '../../src/delivery/ledger.ts';
import type { RetryQueueLimits } from '../../src/delivery/retry-queue.ts';
import type { Spool } from '../../src/delivery/spool.ts';
import { ManualClock } from './manual-clock.ts';
import { ScriptedTransport } from './scripted-transport.ts';

export interface StageOptions {
  maxAttempts?: number;
  retryInitialDelayMillis?: number;
  retryMaxDelayMillis?: number;
  requestTimeoutMillis?: number;
  sendTimeoutMillis?: number;
  flushTimeoutMillis?: number;
  retryBuffer?: Partial<RetryQueueLimits>;
  spool?: Spool;
}

export interface Stage {
  clock: ManualClock;
  transport: ScriptedTransport;
  ledger: DeliveryLedger;
  delivery: EventDelivery;
  drops: Array<{ reason: DropReason; count: number; details: string | undefined }>;
  healthChanges: HealthChange[];
  /** Counts the events as taken by an export, then delivers them; resolves to the export's own drops. */
  deliver(events: readonly CaptureEvent[]): Promise<Map<DropReason, number>>;
  /** Opens a flush window of `flushTimeoutMillis`, flushes, closes it: as the exporter's forceFlush does. */
  flush(): Promise<void>;
}

let sequence = 0;

export function makeEvents(count: number, prefix = 'e'): CaptureEvent[] {
  return Array.from({ length: count }, () => {
    const n = sequence++;
    return {
      event: `${prefix}-${n}`,
      uuid: uuidv7(),
      distinct_id: 'u',
      timestamp: '2026-11-22T12:00:00.000Z',
      options: {},
      properties: { n },
    };
  });
}

export function startStage(options: StageOptions = {}): Stage {
  const clock = new ManualClock();
  const transport = new ScriptedTransport(clock);
  const backoff = { initialDelayMillis: options.retryInitialDelayMillis ?? 500, maxDelayMillis: options.retryMaxDelayMillis ?? 30_000 };
  const client = new CaptureClient({
    ...CLIENT_DEFAULTS,
    host: 'http://capture.test',
    apiKey: 'phc_test_key',
    sdkInfo: 'test/1.0.0',
    compression: 'none',
    transport,
    clock,
    random: () => 0,
    maxAttempts: options.maxAttempts ?? 20,
    retryInitialDelayMillis: backoff.initialDelayMillis,
    retryMaxDelayMillis: backoff.maxDelayMillis,
    requestTimeoutMillis: options.requestTimeoutMillis ?? 10_000,
  });
  const ledger = new DeliveryLedger();
  const drops: Stage['drops'] = [];
  const healthChanges: HealthChange[] = [];
  const flushTimeoutMillis = options.flushTimeoutMillis ?? 10_000;
  const delivery = new EventDelivery({
    client,
    clock,
    ledger,
    sendTimeoutMillis: options.sendTimeoutMillis ?? 10_000,
    flushTimeoutMillis,
    retryBuffer: { maxEvents: 10_000, maxBytes: 32 * 1024 * 1024, maxAgeMillis: 600_000, ...options.retryBuffer },
    backoff,
    random: () => 0,
    ...(options.spool ? { spool: options.spool } : {}),
    onDrop: (reason, _events, details, count) => drops.push({ reason, count, details }),
    onHealthChange: (change) => healthChanges.push(change),
  });
  return {
    clock,
    transport,
    ledger,
    delivery,
    drops,
    healthChanges,
    deliver(events) {
      ledger.take(events.length);
      return delivery.deliver(events);
    },
    async flush() {
      const close = delivery.openWindow(flushTimeoutMillis, false);
      try {
        await delivery.flush();
      } finally {
        close();
      }
    },
  };
}
