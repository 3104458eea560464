import { randomFillSync } from 'node:crypto';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const TEXT = Buffer.alloc(36);

// Random bytes are drawn in blocks: one crypto call per few hundred uuids keeps generation off the profile.
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

/** The two lower-case hex digits of every byte, as character codes: byte b is at 2b and 2b + 1. */
const HEX_CODES = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  HEX_CODES[2 * b] = HEX_DIGITS[b >> 4]!;
  HEX_CODES[2 * b + 1] = HEX_DIGITS[b & 0x0f]!;
}

/** UUIDv7 random bytes used per uuid: 12 bits after the version, then 62 after the variant. */
const RANDOM_BYTES = 10;

// The time part is the same for every uuid of one millisecond: written once per millisecond.
let prefixMillis = -1;
let prefix = '';

/** A UUIDv7 (RFC 9562): 48-bit millisecond time, then random bits. Sorts by creation time, as PostHog prefers. */
export function uuidv7(nowMillis: number = Date.now()): string {
  const ms = Number.isFinite(nowMillis) ? Math.max(0, Math.floor(nowMillis)) % 2 ** 48 : 0;
  if (ms !== prefixMillis) {
    const time = ms.toString(16).padStart(12, '0');
    prefix = `${time.slice(0, 8)}-${time.slice(8)}-7`;
    prefixMillis = ms;
  }
  if (poolOffset + RANDOM_BYTES > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const p = POOL;
  const o = poolOffset;
  poolOffset += RANDOM_BYTES;
  const a = p[o]! & 0x0f; // the digit after the version
  const v = 0x80 | (p[o + 2]! & 0x3f); // variant 10
  // From character codes: no round trip through a buffer and a native call.
  return (
    prefix +
    String.fromCharCode(
      HEX_CODES[2 * a + 1]!,
      hi(p[o + 1]!),
      lo(p[o + 1]!),
      0x2d,
      hi(v),
      lo(v),
      hi(p[o + 3]!),
      lo(p[o + 3]!),
      0x2d,
      hi(p[o + 4]!),
      lo(p[o + 4]!),
      hi(p[o + 5]!),
      lo(p[o + 5]!),
      hi(p[o + 6]!),
      lo(p[o + 6]!),
      hi(p[o + 7]!),
      lo(p[o + 7]!),
      hi(p[o + 8]!),
      lo(p[o + 8]!),
      hi(p[o + 9]!),
      lo(p[o + 9]!),
    )
  );
}

function hi(byte: number): number {
  return HEX_CODES[2 * byte]!;
}

function lo(byte: number): number {
  return HEX_CODES[2 * byte + 1]!;
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
