export const CAPTURE_PATH = '/i/v1/analytics/events';

/** What stays the same on every attempt of one batch. */
export interface BatchIdentity {
  requestId: string;
  createdAt: string;
}

// Compared lower-case: a configured header may not replace one the protocol defines.
const PROTOCOL_HEADERS = new Set([
  'authorization',
  'content-type',
  'content-encoding',
  'content-length',
  'user-agent',
  'posthog-sdk-info',
  'posthog-attempt',
  'posthog-request-id',
  'posthog-request-timestamp',
  'host',
  'transfer-encoding',
  'connection',
  // undici refuses these on a request.
  'expect',
  'upgrade',
  'keep-alive',
]);

/** Removes headers that would clash with the protocol's own, whatever their case. */
export function extraHeadersWithoutProtocolOnes(headers: Readonly<Record<string, string>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!PROTOCOL_HEADERS.has(name.toLowerCase()) && typeof value === 'string') kept[name] = value;
  }
  return kept;
}

export interface AttemptHeaderInput {
  apiKey: string;
  sdkInfo: string;
  identity: BatchIdentity;
  attempt: number;
  nowMillis: number;
  encoding?: string;
  extraHeaders: Record<string, string>;
}

/** Headers of one attempt: the request id repeats, the attempt number and timestamp are fresh. */
export function attemptHeaders(input: AttemptHeaderInput): Record<string, string> {
  const headers: Record<string, string> = {
    ...input.extraHeaders,
    'content-type': 'application/json',
    authorization: `Bearer ${input.apiKey}`,
    'user-agent': input.sdkInfo,
    'posthog-sdk-info': input.sdkInfo,
    'posthog-attempt': String(input.attempt),
    'posthog-request-id': input.identity.requestId,
    'posthog-request-timestamp': new Date(input.nowMillis).toISOString(),
  };
  if (input.encoding !== undefined) headers['content-encoding'] = input.encoding;
  return headers;
}

/**
 * The JSON body around an already serialised `batch` array, written into a buffer from `allocate`
 * (a view of it is returned).
 */
export function requestBody(
  identity: BatchIdentity,
  historicalMigration: boolean,
  batchMembers: readonly string[],
  allocate: (bytes: number) => Buffer = Buffer.allocUnsafe,
): Buffer {
  const head = historicalMigration
    ? `{"created_at":${JSON.stringify(identity.createdAt)},"historical_migration":true,"batch":[`
    : `{"created_at":${JSON.stringify(identity.createdAt)},"batch":[`;
  let units = head.length + batchMembers.length + 2;
  for (let i = 0; i < batchMembers.length; i++) units += batchMembers[i]!.length;
  // Written piece by piece into one buffer sized for the worst case (three UTF-8 bytes per UTF-16
  // unit): concatenating the strings, or the encoded pieces, would copy the whole batch once more.
  const body = allocate(3 * units);
  let length = body.write(head, 0, 'utf8');
  for (let i = 0; i < batchMembers.length; i++) {
    if (i > 0) body[length++] = 0x2c; // ','
    length += body.write(batchMembers[i]!, length, 'utf8');
  }
  length += body.write(']}', length, 'latin1');
  return body.subarray(0, length);
}
