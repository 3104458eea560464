// The capture client against the fake capture server over real HTTP on 127.0.0.1, for the
// capture-client suites: a fresh server and client per test on an InstantClock (sleeps return at
// once and are recorded) with jitter pinned to 0, and ways to read what was sent and reported.

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { CaptureClient } from '../../src/capture/capture-client.ts';
import type { CaptureClientOptions } from '../../src/capture/capture-client.ts';
import type { SendReport } from '../../src/capture/send-report.ts';
import { CLIENT_DEFAULTS } from '../../src/config/defaults.ts';
import type { CaptureEvent, CaptureRequestBody } from '../../src/capture/types.ts';
import { InstantClock } from './clocks.ts';
import { FakeCaptureServer } from './fake-capture-server.ts';
import type { RecordedRequest } from './fake-capture-server.ts';

export const SDK_INFO = 'my-otel-exporter/1.2.3';
/** The configuration's client defaults, with the 4 attempts and 100 ms first delay these tests count on. */
export const CLIENT_SETTINGS = { ...CLIENT_DEFAULTS, maxAttempts: 4, retryInitialDelayMillis: 100 };
export const PATH = '/i/v1/analytics/events';
export const LOWER_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const HOUR = 3_600_000;

export interface Harness {
  server: FakeCaptureServer;
  client: CaptureClient;
  clock: InstantClock;
}

export type HarnessOptions = Partial<CaptureClientOptions> | ((server: FakeCaptureServer) => Partial<CaptureClientOptions>);

/** A fresh server and client per test, closed (client first) when the test ends. */
export async function setup(t: TestContext, options: HarnessOptions = {}): Promise<Harness> {
  const server = await FakeCaptureServer.start();
  const extra = typeof options === 'function' ? options(server) : options;
  const clock = extra.clock instanceof InstantClock ? extra.clock : new InstantClock();
  const client = new CaptureClient({
    ...CLIENT_SETTINGS,
    host: server.url,
    apiKey: server.apiKey,
    sdkInfo: SDK_INFO,
    random: () => 0,
    ...extra,
    clock,
  });
  t.after(async () => {
    await client.close();
    await server.close();
  });
  return { server, client, clock };
}

/** A deadline far enough away never to matter. */
export function far(clock: InstantClock): number {
  return clock.now() + HOUR;
}

/** Uuids of the events the server accepted (2xx result other than retry/drop), deduplicated. */
export function accepted(server: FakeCaptureServer): string[] {
  return server.acceptedEvents().map((e) => e.uuid);
}

/** One deferred event as tests compare them: its request's state spelled out per event. */
export interface DeferredEvent {
  event: CaptureEvent;
  reason: 'deadline' | 'shutdown';
  details?: string;
  /** Requests sent under the deferred request's id. */
  attempt: number;
  /** Requests that carried this event. */
  attempts: number;
  notBefore: number;
  retryAfterUntil?: number;
}

/** A report as tests compare it: deferred requests flattened to their events; the last failure left out. */
export function outcome(report: SendReport): {
  delivered: number;
  rejected: SendReport['rejected'];
  deferred: DeferredEvent[];
  requests: number;
  retries: number;
} {
  const deferred = report.deferred.flatMap((d) =>
    d.events.map((item) => ({
      event: item.event,
      reason: d.reasonIfDropped,
      ...(d.details !== undefined ? { details: d.details } : {}),
      attempt: d.attempt,
      attempts: item.attempts,
      notBefore: d.notBefore,
      ...(d.retryAfterUntil !== undefined ? { retryAfterUntil: d.retryAfterUntil } : {}),
    })),
  );
  return { delivered: report.delivered, rejected: report.rejected, deferred, requests: report.requests, retries: report.retries };
}

/** Every event of a report: rejected, or in a deferred request. */
export function undelivered(report: SendReport): CaptureEvent[] {
  return [...report.rejected.map((r) => r.event), ...report.deferred.flatMap((d) => d.events.map((item) => item.event))];
}

/**
 * Every input event is accounted for exactly once: either among `deliveredUuids` (what the server
 * accepted, unless the test knows better), rejected or deferred, never twice.
 */
export function assertAccounted(report: SendReport, events: readonly CaptureEvent[], deliveredUuids: readonly string[]): void {
  assert.equal(report.delivered + undelivered(report).length, events.length, 'delivered + rejected + deferred === events');
  assert.equal(report.delivered, deliveredUuids.length, 'report.delivered matches the delivered uuids');
  const counts = new Map<string, number>();
  for (const uuid of [...deliveredUuids, ...undelivered(report).map((event) => event.uuid)]) counts.set(uuid, (counts.get(uuid) ?? 0) + 1);
  for (const event of events) assert.equal(counts.get(event.uuid), 1, `uuid ${event.uuid} is accounted for exactly once`);
  assert.equal(counts.size, events.length, 'no uuid outside the input is reported');
}

export function request(server: FakeCaptureServer, index: number): RecordedRequest {
  const req = server.requests[index];
  assert.ok(req, `request #${index} was recorded`);
  return req;
}

export function header(req: RecordedRequest, name: string): string {
  const value = req.headers[name];
  assert.equal(typeof value, 'string', `header ${name} present once`);
  return value as string;
}

export function body(req: RecordedRequest): CaptureRequestBody {
  assert.ok(req.decodedBody !== undefined, 'body decoded');
  return req.decodedBody as CaptureRequestBody;
}

export function headersOf(server: FakeCaptureServer, name: string): (string | string[] | undefined)[] {
  return server.requests.map((r) => r.headers[name]);
}

export function uuidsPerRequest(server: FakeCaptureServer): string[][] {
  return server.requests.map((r) => r.events.map((e) => e.uuid));
}

export function iso(millis: number): string {
  return new Date(millis).toISOString();
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A URL on 127.0.0.1 where nothing listens (a fake server started then closed). */
export async function refusedUrl(): Promise<string> {
  const server = await FakeCaptureServer.start();
  const url = server.url;
  await server.close();
  return url;
}
