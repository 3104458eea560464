// The benchmark workload's records as the SDK hands them to a processor: real LogRecordImpl
// objects, emitted through a LoggerProvider with the service resource, fresh trace contexts.

import { LoggerProvider, type ReadableLogRecord, type ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { logRecord, SCOPE_NAME } from '../workload/records.ts';
import { benchResource } from '../workload/resource.ts';
import type { MappingSettings } from '../../src/config/sections.ts';

/** The mapping settings the benchmark's pipelines resolve to (the defaults, geoip off). */
export const BENCH_MAPPING: Required<MappingSettings> = {
  disableGeoip: true,
  resourceAttributes: 'default',
  logEventName: 'log',
  deterministicUuids: false,
};

/** Records 0 … count-1 of the workload, as the SDK made them. */
export function sdkRecords(count: number): ReadableLogRecord[] {
  const records: ReadableLogRecord[] = [];
  const provider = new LoggerProvider({
    resource: benchResource(),
    processors: [
      {
        onEmit: (record: ReadWriteLogRecord) => void records.push(record as unknown as ReadableLogRecord),
        forceFlush: () => Promise.resolve(),
        shutdown: () => Promise.resolve(),
      },
    ],
  });
  const logger = provider.getLogger(SCOPE_NAME);
  for (let i = 0; i < count; i++) logger.emit(logRecord(i));
  return records;
}
