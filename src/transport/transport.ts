import { Agent, type Dispatcher } from 'undici';
import { requestSignal } from './request-signal.ts';

export interface TransportRequest {
  headers: Record<string, string>;
  body: Buffer;
  /** Time allowed for the whole exchange: connect, headers and body. */
  timeoutMillis: number;
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as text, read up to the size bound. */
  body: string;
  /** True when the body was longer than the bound; the rest was discarded. */
  bodyTruncated: boolean;
  /** Why the body could not be read to its end (cut off, timed out), when it could not; `body` is what arrived. */
  bodyError?: string;
}

/** A failed exchange with no usable response. */
export class TransportError extends Error {
  readonly timedOut: boolean;
  readonly code: string | undefined;
  constructor(message: string, options: { cause?: unknown; timedOut: boolean; code?: string }) {
    super(message, { cause: options.cause });
    this.name = 'TransportError';
    this.timedOut = options.timedOut;
    this.code = options.code;
  }
}

/** Sends one capture request. The seam between the send loop and the network. */
export interface CaptureTransport {
  post(request: TransportRequest): Promise<TransportResponse>;
  close(): Promise<void>;
}

export interface UndiciTransportOptions {
  /** Full URL of the capture endpoint. */
  url: URL;
  /** Bring your own dispatcher (a proxy agent, a mock); it is not closed by `close()`. */
  dispatcher?: Dispatcher;
  connectTimeoutMillis: number;
  /** Bytes of a response body read at most; capture responses are a few KiB. */
  maxResponseBytes: number;
}

/** undici over a keep-alive pool per origin. */
export class UndiciTransport implements CaptureTransport {
  private readonly _origin: string;
  private readonly _path: string;
  private readonly _dispatcher: Dispatcher;
  private readonly _ownsDispatcher: boolean;
  private readonly _maxResponseBytes: number;

  constructor(options: UndiciTransportOptions) {
    this._origin = options.url.origin;
    this._path = options.url.pathname + options.url.search;
    this._maxResponseBytes = options.maxResponseBytes;
    this._ownsDispatcher = options.dispatcher === undefined;
    this._dispatcher =
      options.dispatcher ??
      new Agent({
        connect: { timeout: options.connectTimeoutMillis },
        keepAliveTimeout: 4_000,
        connections: 8,
      });
  }

  async post(request: TransportRequest): Promise<TransportResponse> {
    const aborting = requestSignal(request.timeoutMillis, request.signal);
    try {
      const response = await this._dispatcher.request({
        origin: this._origin,
        path: this._path,
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: aborting.signal,
        headersTimeout: request.timeoutMillis,
        bodyTimeout: request.timeoutMillis,
      });
      // The status has arrived: a body that fails now must not hide it (a 400 is terminal whatever follows).
      const read = await readBounded(response.body, this._maxResponseBytes).catch((error: unknown) => ({
        text: '',
        truncated: false,
        error,
      }));
      const result: TransportResponse = {
        status: response.statusCode,
        headers: response.headers,
        body: read.text,
        bodyTruncated: read.truncated,
      };
      if ('error' in read) result.bodyError = describeFailure(read.error, aborting.timedOut);
      return result;
    } catch (error) {
      const timedOut = aborting.timedOut || isTimeoutError(error);
      const code = errorCode(error);
      throw new TransportError(describeFailure(error, aborting.timedOut), { cause: error, timedOut, ...(code ? { code } : {}) });
    } finally {
      aborting.release();
    }
  }

  async close(): Promise<void> {
    if (this._ownsDispatcher) await this._dispatcher.destroy().catch(() => undefined);
  }
}

/** Reads at most `limit` bytes, then destroys the stream so a hostile server cannot fill memory. */
async function readBounded(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  limit: number,
): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      return { text: Buffer.concat(chunks).toString('utf8'), truncated: true };
    }
    chunks.push(chunk);
  }
  return { text: chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'), truncated: false };
}

/** A failure in a few words, its code if any: never the error's own message, which may quote request details. */
function describeFailure(error: unknown, timeoutFired: boolean): string {
  if (timeoutFired || isTimeoutError(error)) return 'request timed out';
  const code = errorCode(error);
  return `request failed${code ? ` (${code})` : ''}`;
}

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function isTimeoutError(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
}
