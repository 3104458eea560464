// What the exporter prints about records it cannot map: never the API key.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { PostHogLogRecordExporter } from '../src/log-record-exporter.ts';

describe('a record that cannot be mapped', () => {
  test('is reported on debug without the key its error carries', async () => {
    const key = 'phc_mappingErrorSecret42';
    const messages: string[] = [];
    const keep = (...args: unknown[]): void => void messages.push(args.map(String).join(' '));
    diag.setLogger({ error: keep, warn: keep, info: keep, debug: keep, verbose: keep }, { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true });
    // An unreachable host: the mapping fails before anything would be sent.
    const exporter = new PostHogLogRecordExporter({}, { env: { POSTHOG_API_KEY: key, POSTHOG_HOST: 'http://127.0.0.1:9' } });
    try {
      const record = {
        eventName: 'broken',
        hrTime: [1_700_000_000, 0],
        hrTimeObserved: [1_700_000_000, 0],
        resource: { attributes: {} },
        instrumentationScope: { name: 't' },
        droppedAttributesCount: 0,
        get attributes(): never {
          throw new Error(`cannot read attributes (token ${key})`);
        },
      } as unknown as ReadableLogRecord;
      await new Promise<void>((resolve) => exporter.export([record], () => resolve()));
      assert.ok(messages.some((m) => m.includes('record could not be mapped')), messages.join('\n'));
      assert.ok(!messages.join('\n').includes('mappingErrorSecret42'), messages.join('\n'));
    } finally {
      diag.disable();
      await exporter.shutdown();
    }
  });
});
