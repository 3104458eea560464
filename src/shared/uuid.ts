import { randomFillSync } from 'node:crypto';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const TEXT = Buffer.alloc(36);

// Random bytes are drawn in blocks: one crypto call per 256 uuids keeps generation off the profile.
const POOL = Buffer.allocUnsafe(16 * 256);
let poolOffset = POOL.length;

/** The 8-4-4-4-12 hex text of 16 bytes, written into one buffer and read as one string (not pieced together). */
function formatUuid(bytes: Uint8Array, o: number): string {
  let t = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) TEXT[t++] = 0x2d;
    const byte = bytes[o + i]!;
    TEXT[t++] = HEX_DIGITS[byte >> 4]!;
    TEXT[t++] = HEX_DIGITS[byte & 0x0f]!;
  }
  return TEXT.toString('latin1', 0, 36);
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
