// What the checks that keep events acceptable to PostHog cost per record, on the benchmark's
// workload: well-formed strings (no lone surrogate reaches capture), the request identity of a
// record (read at emit, looked up at export), a span's identity given to its events, and the
// exception list of a realistic stack.
//
//   node bench/micro/fidelity-checks.ts [--records N]

import { parseArgs } from 'node:util';
import type { Context } from '@opentelemetry/api';
import { buildExceptionList } from '../../src/mapping/exception-list.ts';
import { mapRecord } from '../../src/mapping/record-to-event.ts';
import { mayHoldLoneSurrogate, wellFormed } from '../../src/mapping/well-formed.ts';
import { getPostHogIdentity, mergeIdentities, recordIdentity } from '../../src/request-identity.ts';
import { requestIdentityOf } from '../../src/selection/server-span-identity.ts';
import { spanIdentityAttributes, withSpanIdentity } from '../../src/selection/span-identity-attributes.ts';
import { median } from '../harness/statistics.ts';
import { contextOf } from '../workload/trace-contexts.ts';
import { BENCH_MAPPING, sdkRecords } from './sdk-records.ts';

const { values: args } = parseArgs({ options: { records: { type: 'string', default: '100000' } }, strict: true });
const count = Number(args.records);
const EXCEPTIONS = 20_000;
const SPANS = 100_000;
// Scenario 3's span: its user.id identifies its events; one of the three events names its own user.
const SPAN_ATTRIBUTES = { 'http.request.method': 'POST', 'http.route': '/api/checkout/:id', 'user.id': 'user_1' };
const SPAN_EVENTS = [
  { 'user.id': 'user_2', 'cart.items': 3, 'cart.value': 20.5, plan: 'pro' },
  { coupon: 'SPRING10', discount: 0.1, is_returning: true },
  { 'cart.value': 20.5, 'feature.flags': ['new-checkout'], duration_ms: 12.5 },
];

const records = sdkRecords(count);
const contexts: Context[] = records.map((_, i) => contextOf(i));
const events = records.map((record) => {
  const outcome = mapRecord(record, BENCH_MAPPING, Date.now());
  if (outcome.kind !== 'mapped') throw new Error(outcome.reason);
  return outcome.events[0]!;
});
// Flat texts, as they are once the body has been written: the scan alone is measured.
for (const event of events) Buffer.byteLength(event.json);

const STACK = [
  "TypeError: Cannot read properties of undefined (reading 'total')",
  '    at computeTotals (/srv/app/dist/checkout/totals.js:42:17)',
  '    at Array.map (<anonymous>)',
  '    at CheckoutService.finish (/srv/app/dist/checkout/service.js:118:31)',
  '    at async Promise.all (index 0)',
  '    at async handler (/srv/app/dist/routes/checkout.js:27:5)',
  '    at async Layer.handle (/srv/app/node_modules/express/lib/router/layer.js:95:5)',
  '    at JSON.parse (<anonymous>)',
  '    at new Promise (<anonymous>)',
  '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
].join('\n');

let sink = 0;
const checks: Array<{ name: string; per: number; run: () => void }> = [
  {
    name: 'well-formed strings: event name and distinct id, and the scan of the event text for lone surrogates',
    per: count,
    run: () => {
      for (const e of events)
        sink += wellFormed(e.event).length + wellFormed(e.distinct_id).length + (mayHoldLoneSurrogate(e.json) ? 1 : 0);
    },
  },
  {
    name: "request identity at emit: the context's PostHog identity and its request's server span",
    per: count,
    run: () => {
      for (const context of contexts) if (mergeIdentities(getPostHogIdentity(context), requestIdentityOf(context))) sink++;
    },
  },
  {
    name: "request identity at export: the record's remembered identity",
    per: count,
    run: () => {
      for (const record of records) if (recordIdentity(record)) sink++;
    },
  },
  {
    name: "span identity: a span's identity keys, given to its 3 events (per span)",
    per: SPANS,
    run: () => {
      for (let i = 0; i < SPANS; i++) {
        const identity = spanIdentityAttributes(SPAN_ATTRIBUTES);
        if (identity !== undefined) for (const event of SPAN_EVENTS) sink += withSpanIdentity(event, identity) === event ? 0 : 1;
      }
    },
  },
  {
    name: 'exception list of a 9-frame Node stack with built-in frames (per exception record)',
    per: EXCEPTIONS,
    run: () => {
      for (let i = 0; i < EXCEPTIONS; i++)
        sink += buildExceptionList(
          { type: 'TypeError', message: "Cannot read properties of undefined (reading 'total')", stacktrace: STACK },
          true,
        ).length;
    },
  },
];

console.log(`${count.toLocaleString('en-US')} records, Node ${process.version}; median of 15 rounds`);
for (const check of checks) {
  for (let warm = 0; warm < 3; warm++) check.run();
  const times: number[] = [];
  for (let r = 0; r < 15; r++) {
    const start = process.hrtime.bigint();
    check.run();
    times.push(Number(process.hrtime.bigint() - start) / check.per);
  }
  console.log(`${median(times).toFixed(0).padStart(6)} ns  ${check.name}`);
}
if (sink < 0) console.log(sink);
