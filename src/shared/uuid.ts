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

// The time part is the same for every uuid of one millisecond: its character codes are worked out once per millisecond.
let timeMillis = -1;
const TIME_CODES = new Uint8Array(15);

/** A UUIDv7 (RFC 9562): 48-bit millisecond time, then random bits. Sorts by creation time, as PostHog prefers. */
export function uuidv7(nowMillis: number = Date.now()): string {
  const ms = Number.isFinite(nowMillis) ? Math.max(0, Math.floor(nowMillis)) % 2 ** 48 : 0;
  const t = TIME_CODES;
  if (ms !== timeMillis) {
    timeMillis = ms;
    const high = Math.floor(ms / 0x100000000);
    const low = ms >>> 0;
    const timeBytes = [(high >>> 8) & 0xff, high & 0xff, low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff];
    let c = 0;
    for (let i = 0; i < 6; i++) {
      if (i === 4) t[c++] = 0x2d;
      t[c++] = hi(timeBytes[i]!);
      t[c++] = lo(timeBytes[i]!);
    }
    t[c++] = 0x2d;
    t[c] = 0x37; // the version, 7
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
  // One flat string from character codes: no round trip through a buffer and a native call, and
  // no pieces joined (a joined string must be flattened before it is hashed or written).
  return String.fromCharCode(
    t[0]!,
    t[1]!,
    t[2]!,
    t[3]!,
    t[4]!,
    t[5]!,
    t[6]!,
    t[7]!,
    t[8]!,
    t[9]!,
    t[10]!,
    t[11]!,
    t[12]!,
    t[13]!,
    t[14]!,
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
