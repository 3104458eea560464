// Assertions on what happened to events: the accounting identity of the stats, and what the fake
// server stored and saw (every attempt, not deduplicated).

import assert from 'node:assert/strict';
import type { CaptureEvent } from '../../src/capture/types.ts';
import { totalDropped, type DeliveryCounts } from '../../src/delivery/ledger.ts';
import type { FakeCaptureServer, RecordedRequest } from './fake-capture-server.ts';

/**
 * The accounting identity of {@link DeliveryCounts}, which holds once a flush has completed:
 * every selected record is delivered, dropped (for some reason) or still pending.
 */
export function assertIdentity(stats: DeliveryCounts, message = 'selected === delivered + sum(dropped) + pending'): void {
  assert.equal(stats.selected, stats.delivered + totalDropped(stats) + stats.pending, `${message}: ${JSON.stringify(stats)}`);
}

function is2xx(request: RecordedRequest): boolean {
  return request.responseStatus >= 200 && request.responseStatus < 300;
}

/**
 * How many times the server stored each uuid: every occurrence in a 2xx answer whose result was
 * not `retry` or `drop`, not deduplicated (acceptedEvents() is).
 */
export function storedOccurrences(server: FakeCaptureServer): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of server.requests) {
    if (!is2xx(request) || request.results === undefined) continue;
    for (const event of request.events) {
      const uuid = event.uuid.toLowerCase();
      const result = request.results[uuid]?.result;
      if (result === 'retry' || result === 'drop') continue;
      counts.set(uuid, (counts.get(uuid) ?? 0) + 1);
    }
  }
  return counts;
}

/** Asserts every stored uuid was stored exactly once and returns the events the server accepted. */
export function assertStoredOnce(server: FakeCaptureServer): CaptureEvent[] {
  const duplicates = [...storedOccurrences(server)].filter(([, n]) => n !== 1);
  assert.deepEqual(duplicates, [], 'every event stored exactly once');
  return server.acceptedEvents();
}

/** How many times the server answered each uuid with an accepted result (ok, warning...), over every request. */
function acceptances(requests: readonly RecordedRequest[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of requests) {
    if (!request.results) continue;
    for (const event of request.events) {
      const uuid = event.uuid.toLowerCase();
      const result = request.results[uuid]?.result;
      if (result === undefined || result === 'retry' || result === 'drop') continue;
      counts.set(uuid, (counts.get(uuid) ?? 0) + 1);
    }
  }
  return counts;
}

/** Asserts the server accepted exactly `n` distinct events, each exactly once. */
export function assertAcceptedOnce(server: FakeCaptureServer, n: number): void {
  const counts = acceptances(server.requests);
  assert.deepEqual(
    [...counts.values()],
    Array.from({ length: n }, () => 1),
    `each of ${n} events accepted exactly once`,
  );
  assert.equal(server.acceptedEvents().length, n);
}

/** `requests` and `retries` as the server saw them: every attempt, and attempts beyond the first per request id. */
export function serverCounts(server: FakeCaptureServer): { requests: number; retries: number } {
  const ids = new Set(server.requests.map((r) => String(r.headers['posthog-request-id'])));
  return { requests: server.requests.length, retries: server.requests.length - ids.size };
}

/**
 * The client's `requests` and `retries` against what the server saw. Exact, except for requests
 * the client aborted at a deadline before their body was out (at most `unseen` of them): counted
 * by the client, never seen by the server.
 */
export function assertRequestCounts(stats: DeliveryCounts, server: FakeCaptureServer, unseen = 0): void {
  const seen = serverCounts(server);
  const missing = stats.requests - seen.requests;
  assert.ok(
    missing >= 0 && missing <= unseen,
    `client counted ${stats.requests} requests, the server saw ${seen.requests} (up to ${unseen} may be unseen)`,
  );
  assert.ok(
    stats.retries >= seen.retries && stats.retries <= seen.retries + missing,
    `client counted ${stats.retries} retries, the server saw ${seen.retries}`,
  );
}

/** The names (not uuids) of events, sorted, for order-free comparisons. */
export function names(events: readonly CaptureEvent[]): string[] {
  return events.map((e) => e.event).sort();
}
