// The application of the zero-code example: OpenTelemetry API calls only, no SDK set-up.
// Run it through examples/zero-code/instrumentation.mjs (see there).
import { logs, trace } from '@opentelemetry/api';

logs.getLogger('jobs').emit({ eventName: 'report_generated', attributes: { 'user.id': 'user-3', rows: 120 } });

trace.getTracer('jobs').startActiveSpan('export', (span) => {
  span.addEvent('export_uploaded', { 'user.id': 'user-3', bytes: 2048 });
  span.end();
});
