// A loopback sink that answers at once, run in its own process (forked by processes.ts) so its CPU
// is not charged to the exporter being measured. It drains every body, answers, and keeps the body;
// when its stats are read it decompresses each (zstd, gzip, deflate, br or none), counts requests
// per Content-Encoding, and counts the events in it (that is how delivery is verified). Answers:
//   POST /i/v1/analytics/events  → 200 {"results":{}}   (capture v1: absent uuids count as accepted)
//   POST /v1/logs                → 200 {} (JSON) or an empty protobuf ExportLogsServiceResponse
// During an outage (POST /__outage?on=1) both answer 503 after draining the body.
// Control: GET /__stats, POST /__reset, POST /__outage?on=0|1.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync, zstdDecompressSync } from 'node:zlib';

export interface SinkStats {
  /** Requests answered 2xx whose body decoded, by protocol. */
  requests: Record<string, number>;
  /** Events (v1 batch entries or OTLP log records) in 2xx-answered requests, by protocol. */
  events: Record<string, number>;
  /** 2xx-answered requests by protocol, then by Content-Encoding ('identity' when absent). */
  encodings: Record<string, Record<string, number>>;
  /** Body bytes of 2xx-answered requests as sent (wire) and after decoding. */
  wireBytes: number;
  decodedBytes: number;
  /** Requests answered 503 during an outage. */
  rejected503: number;
  /** Bodies that could not be decoded or counted (should stay 0). */
  errors: number;
  lastError?: string;
  /** Sink CPU since the last reset, in ms (user + system). */
  cpuMs: number;
  /** ms since the last reset. */
  elapsedMs: number;
}

let stats: Omit<SinkStats, 'cpuMs' | 'elapsedMs'>;
let cpuAtReset = process.cpuUsage();
let resetAt = performance.now();
let outage = false;

interface UncountedBody {
  protocol: 'v1' | 'otlp-proto' | 'otlp-json';
  encoding: string;
  raw: Buffer;
}

/** Bodies answered 2xx and not yet counted. */
let uncounted: UncountedBody[] = [];

function reset(): void {
  uncounted = [];
  stats = { requests: {}, events: {}, encodings: {}, wireBytes: 0, decodedBytes: 0, rejected503: 0, errors: 0 };
  cpuAtReset = process.cpuUsage();
  resetAt = performance.now();
}
reset();

function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

/** Reads a protobuf varint at `pos`; returns [value, next position]. */
function varint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[pos++];
    if (byte === undefined) throw new Error('truncated varint');
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, pos];
    shift += 7;
  }
}

/** Calls `onField(fieldNumber, start, end)` for each length-delimited field of a message; skips the rest. */
function forEachLenField(buf: Buffer, start: number, end: number, onField: (field: number, s: number, e: number) => void): void {
  let pos = start;
  while (pos < end) {
    const [key, afterKey] = varint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    pos = afterKey;
    if (wire === 0) pos = varint(buf, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, afterLen] = varint(buf, pos);
      onField(field, afterLen, afterLen + len);
      pos = afterLen + len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

/** Log records in an OTLP ExportLogsServiceRequest: resource_logs(1) → scope_logs(2) → log_records(2). */
export function countProtobufLogRecords(buf: Buffer): number {
  let count = 0;
  forEachLenField(buf, 0, buf.length, (f1, s1, e1) => {
    if (f1 !== 1) return;
    forEachLenField(buf, s1, e1, (f2, s2, e2) => {
      if (f2 !== 2) return;
      forEachLenField(buf, s2, e2, (f3) => {
        if (f3 === 2) count++;
      });
    });
  });
  return count;
}

function countJsonLogRecords(body: unknown): number {
  let count = 0;
  for (const rl of (body as { resourceLogs?: { scopeLogs?: { logRecords?: unknown[] }[] }[] }).resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) count += sl.logRecords?.length ?? 0;
  }
  return count;
}

/** The body's Content-Encoding, lower-cased; 'identity' when there is none. */
function encodingOf(req: IncomingMessage): string {
  const value = req.headers['content-encoding']?.trim().toLowerCase();
  return value === undefined || value === '' ? 'identity' : value;
}

function decode(encoding: string, raw: Buffer): Buffer {
  switch (encoding) {
    case 'identity':
      return raw;
    case 'zstd':
      return zstdDecompressSync(raw);
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(raw);
    case 'deflate':
      return inflateSync(raw);
    case 'br':
      return brotliDecompressSync(raw);
    default:
      // An encoding the sink cannot read must not pass as delivered.
      throw new Error(`unsupported content-encoding ${encoding}`);
  }
}

function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
  const url = new URL(req.url ?? '/', 'http://sink');
  if (url.pathname === '/__stats') {
    // The sink's CPU while receiving; counting comes after.
    const cpu = process.cpuUsage(cpuAtReset);
    countReceived();
    const body: SinkStats = { ...stats, cpuMs: (cpu.user + cpu.system) / 1000, elapsedMs: performance.now() - resetAt };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    return;
  }
  if (url.pathname === '/__reset') {
    reset();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    return;
  }
  if (url.pathname === '/__outage') {
    outage = url.searchParams.get('on') === '1';
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ outage }));
    return;
  }
  const isV1 = url.pathname === '/i/v1/analytics/events' || url.pathname === '/i/v1/analytics/events/';
  const isOtlp = url.pathname === '/v1/logs';
  if (!isV1 && !isOtlp) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
    return;
  }
  if (outage) {
    stats.rejected503++;
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"service_unavailable","error_description":"bench outage"}');
    return;
  }
  const proto = isOtlp && (req.headers['content-type'] ?? '').startsWith('application/x-protobuf');
  const protocol = isV1 ? 'v1' : proto ? 'otlp-proto' : 'otlp-json';
  // Answer now, count later: decoding and parsing a 400 KB batch takes the sink milliseconds. Done
  // per request, that work sat in every contender's round trip at first, and then, done after the
  // answer, still competed for this machine's two cores with the contender being timed (5.3 µs per
  // record for capture v1 JSON, 1.9 for OTLP protobuf: unequal handicaps). Bodies are kept as
  // they came (about 75 bytes per record) and counted when the stats are read, after the timing.
  if (isV1) res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":{}}');
  else if (proto) res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  uncounted.push({ protocol, encoding: encodingOf(req), raw });
}

/** Decodes and counts the bodies received since the last count. A body the sink cannot read is an error, never delivered. */
function countReceived(): void {
  for (const { protocol, encoding, raw } of uncounted) {
    try {
      const decoded = decode(encoding, raw);
      let events: number;
      if (protocol === 'v1') events = (JSON.parse(decoded.toString('utf8')) as { batch: unknown[] }).batch.length;
      else if (protocol === 'otlp-proto') events = countProtobufLogRecords(decoded);
      else events = countJsonLogRecords(JSON.parse(decoded.toString('utf8')));
      bump(stats.requests, protocol);
      bump(stats.events, protocol, events);
      bump((stats.encodings[protocol] ??= {}), encoding);
      stats.wireBytes += raw.length;
      stats.decodedBytes += decoded.length;
    } catch (error) {
      stats.errors++;
      stats.lastError = String(error);
    }
  }
  uncounted = [];
}

export async function startSink(port = 0): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', () => {});
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// Forked by processes.ts: start, report the URL to the parent, and live until the parent disconnects.
if (process.send !== undefined && process.argv.includes('--sink-child')) {
  const sink = await startSink();
  process.send({ type: 'sink-ready', url: sink.url });
  process.on('disconnect', () => {
    void sink.close().then(() => process.exit(0));
  });
}
