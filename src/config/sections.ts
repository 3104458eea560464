import type { CaptureClientSettings } from '../capture/capture-client.ts';
import type { DropReason } from '../capture/types.ts';
import type { DeliverySettings } from '../delivery/event-delivery.ts';
import type { SpoolSettings } from '../delivery/spool.ts';
import type { MappingSettings } from '../mapping/record-to-event.ts';
import type { RecordSelectionSettings } from '../selection/selection.ts';
import type { PostHogEvent } from './options.ts';

/** The batch section: OpenTelemetry's `BatchLogRecordProcessor` settings, and the flush at exit. */
export interface BatchSettings {
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  maxQueueSize: number;
  exportTimeoutMillis: number;
  /** Flush when the event loop empties (`beforeExit`). */
  flushOnExit: boolean;
}

/** The diagnostics section: what the pipeline prints, and whether it sends at all. */
export interface DiagnosticsSettings {
  /** Print each mapped event, each request and the start-up line. */
  debug: boolean;
  /** Map and print events, send nothing. */
  dryRun: boolean;
}

/** The user's hooks (code only, no environment variable). */
export interface HookSettings {
  beforeSend: ((event: PostHogEvent) => PostHogEvent | null) | undefined;
  onDrop: ((events: readonly PostHogEvent[], reason: DropReason, details: string | undefined) => void) | undefined;
}

export type { CaptureClientSettings, DeliverySettings, MappingSettings, RecordSelectionSettings, SpoolSettings };
