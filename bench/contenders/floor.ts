// The floor: JSON.stringify and gzip (default level) of the same capture v1 events in batches,
// with no pipeline and no HTTP. Untimed reference passes follow: gzip level 1 and zstd level 1.

import { constants, gzipSync, zstdCompressSync, type ZstdOptions } from 'node:zlib';
import { cpuMicros, timed, type Timing } from '../harness/timing.ts';
import { BATCH_SIZE, captureEvent } from '../workload/records.ts';

export interface FloorSplit {
  stringifyMicrosPerRecord: number;
  gzipMicrosPerRecord: number;
  wireBytes: number;
  jsonBytes: number;
  /** The same batches gzipped at level 1 (Z_BEST_SPEED), untimed pass after the measured one. */
  gzipFastestMicrosPerRecord: number;
  wireBytesFastest: number;
  /** The same batches through zstd level 1 (our default codec), untimed pass after the measured one. */
  zstdMicrosPerRecord: number;
  wireBytesZstd: number;
}

const ZSTD_LEVEL_1: ZstdOptions = { params: { [constants.ZSTD_c_compressionLevel]: 1 } };

/** Runs the floor over `records` events (built beforehand, outside the timing) after `warmup` untimed ones. */
export async function runFloor(records: number, warmup: number): Promise<Timing & { sent: number; floorSplit: FloorSplit }> {
  const now = Date.now();
  const warmEvents = Array.from({ length: warmup }, (_, k) => captureEvent(records + k, now));
  for (let i = 0; i < warmEvents.length; i += BATCH_SIZE) {
    const json = JSON.stringify({ created_at: new Date().toISOString(), batch: warmEvents.slice(i, i + BATCH_SIZE) });
    gzipSync(json);
    gzipSync(json, { level: constants.Z_BEST_SPEED });
    zstdCompressSync(json, ZSTD_LEVEL_1);
  }
  const events = Array.from({ length: records }, (_, i) => captureEvent(i, now));
  let stringifyMicros = 0;
  let gzipMicros = 0;
  let wireBytes = 0;
  let jsonBytes = 0;
  let sent = 0;
  const timing = await timed(async () => {
    for (let i = 0; i < events.length; i += BATCH_SIZE) {
      const batch = events.slice(i, i + BATCH_SIZE);
      const c0 = cpuMicros();
      const json = JSON.stringify({ created_at: new Date().toISOString(), batch });
      const c1 = cpuMicros();
      const body = gzipSync(json);
      const c2 = cpuMicros();
      stringifyMicros += c1 - c0;
      gzipMicros += c2 - c1;
      jsonBytes += json.length;
      wireBytes += body.length;
      sent += batch.length;
    }
  });
  // Outside the timed window: the same batches at the levels our exporter uses.
  let fastestMicros = 0;
  let wireBytesFastest = 0;
  let zstdMicros = 0;
  let wireBytesZstd = 0;
  for (let i = 0; i < events.length; i += BATCH_SIZE) {
    const json = JSON.stringify({ created_at: new Date().toISOString(), batch: events.slice(i, i + BATCH_SIZE) });
    const c0 = cpuMicros();
    wireBytesFastest += gzipSync(json, { level: constants.Z_BEST_SPEED }).length;
    const c1 = cpuMicros();
    wireBytesZstd += zstdCompressSync(json, ZSTD_LEVEL_1).length;
    const c2 = cpuMicros();
    fastestMicros += c1 - c0;
    zstdMicros += c2 - c1;
  }
  return {
    ...timing,
    sent,
    floorSplit: {
      stringifyMicrosPerRecord: stringifyMicros / records,
      gzipMicrosPerRecord: gzipMicros / records,
      wireBytes,
      jsonBytes,
      gzipFastestMicrosPerRecord: fastestMicros / records,
      wireBytesFastest,
      zstdMicrosPerRecord: zstdMicros / records,
      wireBytesZstd,
    },
  };
}
