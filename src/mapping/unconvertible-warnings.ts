import { DROP_WARNING_INTERVAL_MILLIS } from '../diagnostics/diagnostics.ts';

/**
 * Warns that attribute values could not be converted (a revoked Proxy, a getter or `toJSON` that
 * throws) and went out as "[unserializable]": at the first one, then at most once a minute while
 * more come, with the count since the last warning.
 */
export class UnconvertibleValueWarnings {
  private readonly _now: () => number;
  private readonly _warn: (message: string) => void;
  private _lastAt: number | undefined;
  private _unreported = 0;
  private _total = 0;

  constructor(now: () => number, warn: (message: string) => void) {
    this._now = now;
    this._warn = warn;
  }

  /** Values sent as "[unserializable]" so far. */
  get total(): number {
    return this._total;
  }

  record(count: number): void {
    if (!(count > 0)) return;
    this._total += count;
    this._unreported += count;
    const now = this._now();
    if (this._lastAt !== undefined && now - this._lastAt < DROP_WARNING_INTERVAL_MILLIS) return;
    this._warn(
      `${this._unreported} attribute value(s) could not be converted (a revoked Proxy, a getter or toJSON that throws) and were sent as "[unserializable]"; the rest of their events went on. ${this._total} in all; reported at most once a minute.`,
    );
    this._lastAt = now;
    this._unreported = 0;
  }
}
