// Before timing anything: check against the strict fake capture server (test/support) that our
// pipeline and posthog-node in v1 mode send valid capture v1 requests, that every record arrives,
// and that both produce the same event for the same record (so the throughput comparison compares
// equal work). The floor's hand-built events are checked against ours the same way.

import { PostHog } from 'posthog-node';
import { FakeCaptureServer } from '../../test/support/fake-capture-server.ts';
import { buildLogPipeline } from '../contenders/log-pipelines.ts';
import { BENCH_API_KEY, captureEvent, distinctId, eventName, eventProperties, logRecord } from '../workload/records.ts';

export interface CorrectnessJob {
  records: number;
}

export interface CorrectnessResult {
  records: number;
  /** `encodings`: requests by Content-Encoding ('identity' when absent). */
  ours: { requests: number; invalid: number; accepted: number; encodings: Record<string, number> };
  posthogNode: { requests: number; invalid: number; accepted: number; encodings: Record<string, number>; firstInvalid?: string };
  /** Property keys of record 0: the same set for ours, posthog-node (less its own $lib-style additions) and the floor. */
  propertyKeys: { ours: string[]; posthogNodeExtra: string[]; posthogNodeMissing: string[]; floorExtra: string[]; floorMissing: string[] };
  /** Same event name, distinct_id and property values for record 0 across the three. */
  sameValues: boolean;
  ok: boolean;
}

function countEncodings(values: (string | string[] | undefined)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) {
    const encoding = (Array.isArray(value) ? value.join(',') : value) || 'identity';
    counts[encoding] = (counts[encoding] ?? 0) + 1;
  }
  return counts;
}

function summarize(server: FakeCaptureServer) {
  const invalid = server.requests.filter((r) => !r.validation.ok);
  return {
    requests: server.requests.length,
    invalid: invalid.length,
    accepted: server.acceptedEvents().length,
    encodings: countEncodings(server.requests.map((r) => r.headers['content-encoding'])),
    ...(invalid[0] && invalid[0].validation.ok === false ? { firstInvalid: invalid[0].validation.description } : {}),
  };
}

export async function runCorrectness(job: CorrectnessJob): Promise<CorrectnessResult> {
  const ourServer = await FakeCaptureServer.start({ apiKey: BENCH_API_KEY });
  const pipeline = buildLogPipeline('ours', ourServer.url, {
    maxQueueSize: job.records,
    maxExportBatchSize: 512,
    scheduledDelayMillis: 1_000,
    exportTimeoutMillis: 30_000,
  });
  for (let i = 0; i < job.records; i++) pipeline.logger.emit(logRecord(i));
  await pipeline.shutdown();
  const ours = summarize(ourServer);
  const ourEvents = ourServer.acceptedEvents();
  await ourServer.close();

  process.env.POSTHOG_CAPTURE_MODE = 'v1';
  const phServer = await FakeCaptureServer.start({ apiKey: BENCH_API_KEY });
  const client = new PostHog(BENCH_API_KEY, {
    host: phServer.url,
    flushAt: 512,
    maxBatchSize: 512,
    maxQueueSize: job.records,
    disableGeoip: true,
  });
  for (let i = 0; i < job.records; i++)
    client.capture({ distinctId: distinctId(i), event: eventName(i), properties: eventProperties(i), timestamp: new Date() });
  await client.shutdown(60_000);
  const posthogNode = summarize(phServer);
  const phEvents = phServer.acceptedEvents();
  await phServer.close();

  // Record 0 in each: ours is matched by its trace id and body, posthog-node's likewise.
  const expected = eventProperties(0);
  const find = (events: typeof ourEvents) =>
    events.find((e) => e.properties.$trace_id === expected.$trace_id && e.properties.body === expected.body);
  const ourFirst = find(ourEvents);
  const phFirst = find(phEvents);
  const floorFirst = captureEvent(0, Date.now()) as { properties: Record<string, unknown>; event: string; distinct_id: string };
  const keys = (p: Record<string, unknown> | undefined) => Object.keys(p ?? {}).sort();
  const ourKeys = keys(ourFirst?.properties);
  const diff = (a: string[], b: string[]) => a.filter((k) => !b.includes(k));
  const phKeys = keys(phFirst?.properties);
  const floorKeys = keys(floorFirst.properties);
  const same = (a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined) =>
    a !== undefined && b !== undefined && ourKeys.every((k) => JSON.stringify(a[k]) === JSON.stringify(b[k]));
  const sameValues =
    ourFirst !== undefined &&
    phFirst !== undefined &&
    ourFirst.event === phFirst.event &&
    ourFirst.event === floorFirst.event &&
    ourFirst.distinct_id === phFirst.distinct_id &&
    ourFirst.distinct_id === floorFirst.distinct_id &&
    same(ourFirst.properties, phFirst.properties) &&
    same(ourFirst.properties, floorFirst.properties);
  const propertyKeys = {
    ours: ourKeys,
    posthogNodeExtra: diff(phKeys, ourKeys),
    posthogNodeMissing: diff(ourKeys, phKeys),
    floorExtra: diff(floorKeys, ourKeys),
    floorMissing: diff(ourKeys, floorKeys),
  };
  const ok =
    ours.invalid === 0 &&
    ours.accepted === job.records &&
    posthogNode.invalid === 0 &&
    posthogNode.accepted === job.records &&
    propertyKeys.posthogNodeMissing.length === 0 &&
    propertyKeys.floorExtra.length === 0 &&
    propertyKeys.floorMissing.length === 0 &&
    sameValues;
  return { records: job.records, ours, posthogNode, propertyKeys, sameValues, ok };
}
