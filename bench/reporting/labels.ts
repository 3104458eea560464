// What each contender is called in tables (long) and in the chart (short).

export const CONTENDER_LABELS: Record<string, string> = {
  ours: 'ours (PostHogLogRecordProcessor, default zstd)',
  'ours-gzip': 'ours with gzip',
  'ours-before-send': 'ours with a beforeSend hook',
  'otlp-http': 'OTLP http/json + BLRP',
  'otlp-proto': 'OTLP http/protobuf + BLRP',
  'posthog-node': 'posthog-node (capture v1)',
  floor: 'floor: JSON.stringify + gzip',
  'stock-noop': 'stock BLRP + no-op exporter',
  bound: 'bound: BLRP + our mapping, zstd, one POST per batch',
  'noop-processor': 'SDK + processor that does nothing',
  none: 'no span processor',
};

export const SHORT_LABELS: Record<string, string> = {
  ours: 'ours (default zstd)',
  'ours-gzip': 'ours with gzip',
  'ours-before-send': 'ours + beforeSend',
  'otlp-http': 'OTLP http/json',
  'otlp-proto': 'OTLP http/protobuf',
  'posthog-node': 'posthog-node (v1)',
  floor: 'floor: stringify + gzip',
  'stock-noop': 'stock BLRP, no-op export',
  bound: 'bound: map, zstd, POST',
  'noop-processor': 'SDK + no-op processor',
  none: 'no span processor',
};

export const label = (c: string): string => CONTENDER_LABELS[c] ?? c;
export const shortLabel = (c: string): string => SHORT_LABELS[c] ?? c;
