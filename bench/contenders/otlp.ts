// The OpenTelemetry exporters a user would pick instead: OTLP over http/json and http/protobuf, gzip.

import { OTLPLogExporter as OtlpHttpLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as OtlpProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';

type OtlpConfig = NonNullable<ConstructorParameters<typeof OtlpHttpLogExporter>[0]>;

function otlpConfig(sinkUrl: string): OtlpConfig {
  // CompressionAlgorithm.GZIP is 'gzip'; the enum lives in a package we do not depend on directly.
  return { url: `${sinkUrl}/v1/logs`, compression: 'gzip' } as OtlpConfig;
}

export function otlpExporter(protocol: 'http/json' | 'http/protobuf', sinkUrl: string): LogRecordExporter {
  return protocol === 'http/json' ? new OtlpHttpLogExporter(otlpConfig(sinkUrl)) : new OtlpProtoLogExporter(otlpConfig(sinkUrl));
}
