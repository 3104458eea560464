import type { FailureCause } from '../capture/send-report.ts';

/** Transport error codes, in words. */
const CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed for now',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  UND_ERR_CONNECT_TIMEOUT: 'no connection in time',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_BODY_TIMEOUT: 'the answer stopped coming',
  UND_ERR_SOCKET: 'connection closed by the other side',
};

/** A failure in a few words, with its code: `connection refused (ECONNREFUSED)`, `HTTP 503`. */
export function describeFailure(cause: FailureCause): string {
  if (cause.kind === 'status')
    return cause.status < 300 ? `PostHog answered HTTP ${cause.status} and asked for the events again` : `HTTP ${cause.status}`;
  const code = cause.code;
  switch (cause.kind) {
    case 'refused':
      return `${(code && CODES[code]) ?? 'cannot connect'} (${code ?? 'refused'})`;
    case 'dns':
      return `${(code && CODES[code]) ?? 'host name not found'} (DNS ${code ?? 'failure'})`;
    case 'tls':
      return `TLS failed (${code ?? 'handshake'})`;
    case 'timeout':
      return `${(code && CODES[code]) ?? 'no answer in time'} (timeout)`;
    case 'network':
      return code ? `${CODES[code] ?? 'network error'} (${code})` : 'network error';
  }
}

/** A duration for people: `850 ms`, `42 s`, `3 min 20 s`, `2 h 5 min`. */
export function describeDuration(millis: number): string {
  const ms = Math.max(0, Math.round(millis));
  if (ms < 1_000) return `${ms} ms`;
  const seconds = Math.round(ms / 1_000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
