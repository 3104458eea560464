import { randomFillSync } from 'node:crypto';

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Random bytes are drawn in blocks: one crypto call per 256 uuids keeps generation off the profile.
const POOL = Buffer.allocUnsafe(16 * 256);
let poolOffset = POOL.length;

function formatUuid(bytes: Uint8Array, o: number): string {
  const h = (i: number): string => HEX[bytes[o + i]!]!;
  return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
}

/** A UUIDv7 (RFC 9562): 48-bit millisecond time, then random bits. Sorts by creation time, as PostHog prefers. */
export function uuidv7(nowMillis: number = Date.now()): string {
  if (poolOffset + 16 > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const o = poolOffset;
  poolOffset += 16;
  const ms = Math.max(0, Math.floor(nowMillis));
  const high = Math.floor(ms / 0x100000000);
  const low = ms >>> 0;
  POOL[o] = (high >>> 8) & 0xff;
  POOL[o + 1] = high & 0xff;
  POOL[o + 2] = (low >>> 24) & 0xff;
  POOL[o + 3] = (low >>> 16) & 0xff;
  POOL[o + 4] = (low >>> 8) & 0xff;
  POOL[o + 5] = low & 0xff;
  POOL[o + 6] = 0x70 | (POOL[o + 6]! & 0x0f);
  POOL[o + 8] = 0x80 | (POOL[o + 8]! & 0x3f);
  return formatUuid(POOL, o);
}

/** The canonical lower-case form of a UUID string, or undefined when it is not one. */
export function canonicalUuid(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return UUID_PATTERN.test(trimmed) ? trimmed.toLowerCase() : undefined;
}

/** A name-based UUID (version 8 layout over SHA-256) for deterministic event ids. */
export function uuidFromHash(digest: Uint8Array): string {
  const bytes = Uint8Array.from(digest.subarray(0, 16));
  bytes[6] = 0x80 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  return formatUuid(bytes, 0);
}
