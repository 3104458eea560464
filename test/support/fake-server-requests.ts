// Raw requests to the fake capture server, written by hand so that each test controls every
// header, body and encoding the server validates.

import { randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import type { CaptureEvent } from '../../src/capture/types.ts';
import type { FakeCaptureServer } from './fake-capture-server.ts';

export const PATH = '/i/v1/analytics/events';

export function makeEvent(overrides: Partial<CaptureEvent> = {}): CaptureEvent {
  return {
    event: 'span_ended',
    uuid: randomUUID(),
    distinct_id: 'svc-a',
    timestamp: new Date().toISOString(),
    options: {},
    properties: { duration_ms: 12 },
    ...overrides,
  };
}

export function makeBody(events: unknown[] = [makeEvent()], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { created_at: new Date().toISOString(), batch: events, ...extra };
}

export function makeHeaders(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const headers: Record<string, string | undefined> = {
    'content-type': 'application/json',
    authorization: 'Bearer phc_test_key',
    'user-agent': 'opentelemetry-exporter-posthog/0.1.0',
    'posthog-sdk-info': 'opentelemetry-exporter-posthog/0.1.0',
    'posthog-attempt': '1',
    'posthog-request-id': randomUUID(),
    'posthog-request-timestamp': new Date().toISOString(),
    ...overrides,
  };
  return Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined));
}

export interface SendOptions {
  body?: unknown;
  raw?: Buffer | string;
  headers?: Record<string, string | undefined>;
  encoding?: 'gzip' | 'deflate' | 'deflate-raw' | 'none';
  method?: string;
  path?: string;
}

export function send(server: FakeCaptureServer, options: SendOptions = {}): Promise<Response> {
  const json = Buffer.from(JSON.stringify(options.body ?? makeBody()));
  const encoding = options.encoding ?? 'gzip';
  let payload: Buffer | string = json;
  const extra: Record<string, string> = {};
  if (options.raw !== undefined) payload = options.raw;
  else if (encoding === 'gzip') payload = zlib.gzipSync(json);
  else if (encoding === 'deflate') payload = zlib.deflateSync(json);
  else if (encoding === 'deflate-raw') payload = zlib.deflateRawSync(json);
  if (options.raw === undefined && encoding !== 'none') extra['content-encoding'] = encoding.replace('-raw', '');
  const method = options.method ?? 'POST';
  return fetch(server.url + (options.path ?? PATH), {
    method,
    headers: makeHeaders({ ...extra, ...options.headers }),
    ...(method === 'GET' ? {} : { body: payload }),
  });
}
