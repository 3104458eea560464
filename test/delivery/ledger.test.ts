// Unit tests of DeliveryLedger: each transition moves a count from one place to another, pending is
// counted where the events are, and the identity selected = delivered + dropped + pending holds.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryLedger, totalDropped, type DeliveryCounts } from '../../src/delivery/ledger.ts';

function balanced(stats: DeliveryCounts): boolean {
  return stats.selected === stats.delivered + totalDropped(stats) + stats.pending;
}

describe('DeliveryLedger', () => {
  test('a pipeline: emitted, selected, queued, refused, taken, then delivered, dropped, waiting and parked', () => {
    const ledger = new DeliveryLedger();
    for (let i = 0; i < 10; i++) ledger.emit();
    for (let i = 0; i < 8; i++) ledger.select();
    for (let i = 0; i < 7; i++) ledger.queue();
    ledger.refuse('queue_full');
    assert.equal(ledger.batchQueue, 7);
    assert.deepEqual(ledger.pipelineStats(), {
      emitted: 10,
      selected: 8,
      delivered: 0,
      dropped: { queue_full: 1 },
      pending: 7,
      requests: 0,
      retries: 0,
      retryBuffered: 0,
      recovered: 0,
      corruptSpoolFiles: 0,
    });

    ledger.take(6);
    ledger.drop('invalid', 1);
    ledger.deliver(2);
    ledger.defer(3);
    ledger.sent(3, 1);
    assert.equal(ledger.batchQueue, 1);
    let stats = ledger.pipelineStats();
    assert.deepEqual(
      {
        pending: stats.pending,
        retryBuffered: stats.retryBuffered,
        delivered: stats.delivered,
        requests: stats.requests,
        retries: stats.retries,
      },
      { pending: 1 + 0 + 3, retryBuffered: 3, delivered: 2, requests: 3, retries: 1 },
    );
    assert.ok(balanced(stats));

    ledger.resume(3);
    ledger.park(2);
    ledger.drop('deadline', 1);
    stats = ledger.pipelineStats();
    assert.deepEqual(
      { pending: stats.pending, retryBuffered: stats.retryBuffered, dropped: stats.dropped },
      { pending: 1 + 2, retryBuffered: 2, dropped: { queue_full: 1, invalid: 1, deadline: 1 } },
    );
    assert.ok(balanced(stats));
  });

  test('the exporter\u2019s own account leaves out what the processor refused, and counts what it took and recovered', () => {
    const ledger = new DeliveryLedger();
    ledger.select();
    ledger.refuse('shutdown');
    ledger.take(2);
    ledger.recover(3);
    ledger.recoverInvalid(1);
    ledger.deliver(2);
    ledger.dropWaiting('retry_buffer_full', 1);
    const stats = ledger.exporterStats();
    assert.deepEqual(stats, {
      emitted: 6,
      selected: 6,
      delivered: 2,
      dropped: { invalid: 1, retry_buffer_full: 1 },
      pending: 2,
      requests: 0,
      retries: 0,
      retryBuffered: 2,
      recovered: 4,
      corruptSpoolFiles: 0,
    });
    assert.ok(balanced(stats));
    assert.deepEqual(ledger.pipelineStats().dropped, { invalid: 1, retry_buffer_full: 1, shutdown: 1 });
  });

  test('a record that maps to several events: derive() adds the extra events in flight and selected; the batch queue counts records', () => {
    const ledger = new DeliveryLedger();
    for (let i = 0; i < 2; i++) {
      ledger.emit();
      ledger.select();
      ledger.queue();
    }
    ledger.take(2);
    ledger.derive(1);
    assert.equal(ledger.batchQueue, 0);
    ledger.deliver(3);
    const stats = ledger.pipelineStats();
    assert.deepEqual(
      { emitted: stats.emitted, selected: stats.selected, delivered: stats.delivered, pending: stats.pending },
      { emitted: 2, selected: 3, delivered: 3, pending: 0 },
    );
    assert.ok(balanced(stats));
    assert.ok(balanced(ledger.exporterStats()));
  });

  test('stats are snapshots: changing one changes nothing in the ledger', () => {
    const ledger = new DeliveryLedger();
    ledger.take(1);
    ledger.drop('invalid', 1);
    const stats = ledger.exporterStats();
    stats.dropped.invalid = 99;
    stats.delivered = 5;
    assert.deepEqual(ledger.exporterStats().dropped, { invalid: 1 });
    assert.equal(ledger.exporterStats().delivered, 0);
  });
});
