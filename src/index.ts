// First, before any dependency loads: a clear error on a Node.js version that is too old.
import './runtime/node-version.ts';
export { PostHogLogRecordExporter } from './log-record-exporter.ts';
export { PostHogExportError } from './export-error.ts';
export { PostHogLogRecordProcessor } from './log-record-processor.ts';
export { PostHogSpanEventProcessor, type PostHogSpanEventProcessorOptions } from './span-event-processor.ts';
export type { PostHogExporterOptions, PostHogLogRecordProcessorOptions, PostHogEvent, ResourcePropertiesRule } from './config/options.ts';
export type { PostHogStats } from './delivery/ledger.ts';
export type { PipelineState, OutageStatus } from './delivery/pipeline-status.ts';
export type { FailureCause } from './capture/send-report.ts';
export type { Compression, DropReason, CaptureEventOptions } from './capture/types.ts';
export { VERSION } from './version.ts';
export {
  withPostHogIdentity,
  setPostHogIdentity,
  getPostHogIdentity,
  identityFromHeaders,
  type PostHogIdentity,
} from './request-identity.ts';
export { withFlush, type Flushable, type WithFlushOptions } from './serverless.ts';
export { recordExceptionWithCauses } from './record-exception.ts';
