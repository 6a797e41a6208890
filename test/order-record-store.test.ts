import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsonFileOrderRecordStore } from '../src/venues/bybit/order-record-store.js';
import type { OrderRecord } from '../src/venues/bybit/venue-types.js';

const fileIn = () => path.join(mkdtempSync(path.join(tmpdir(), 'order-records-')), 'orders.json');
const record = (id: string, status: OrderRecord['status'], extra: Partial<OrderRecord> = {}): OrderRecord => ({
  orderLinkId: id, symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: 0.01, stopLoss: 57_000, status, cumExecQty: 0, updatedAtMs: 1, ...extra,
});
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

describe('JsonFileOrderRecordStore (journal)', () => {
  it('appends one line per put and a reopened store sees the last version of each record, compacted', () => {
    const file = fileIn();
    const a = new JsonFileOrderRecordStore(file);
    a.put(record('o1', 'sending'));
    a.put(record('o2', 'sending'));
    a.put(record('o1', 'open', { orderId: 'X1' }));
    expect(lines(file)).toHaveLength(3);
    const b = new JsonFileOrderRecordStore(file);
    expect(b.get('o1')).toMatchObject({ status: 'open', orderId: 'X1' });
    expect(b.get('o2')?.status).toBe('sending');
    expect(lines(file)).toHaveLength(2);
    expect(b.all().map((r) => r.orderLinkId).sort()).toEqual(['o1', 'o2']);
  });

  it('skips a torn last line (a crash mid-append) but refuses a damaged line before it', () => {
    const file = fileIn();
    new JsonFileOrderRecordStore(file).put(record('o1', 'sending'));
    appendFileSync(file, '{"orderLinkId":"o2","sta');
    const reopened = new JsonFileOrderRecordStore(file);
    expect(reopened.get('o1')?.status).toBe('sending');
    expect(reopened.get('o2')).toBeUndefined();
    writeFileSync(file, `not json\n${JSON.stringify(record('o3', 'open'))}\n`);
    expect(() => new JsonFileOrderRecordStore(file)).toThrow(/line 1 is not JSON/);
    writeFileSync(file, `${JSON.stringify({ hello: 1 })}\n`);
    expect(() => new JsonFileOrderRecordStore(file)).toThrow(/line 1 is not an order record/);
  });

  it('reads the former single-array file and rewrites it as a journal', () => {
    const file = fileIn();
    writeFileSync(file, JSON.stringify([record('old', 'filled', { cumExecQty: 0.01 })]));
    const s = new JsonFileOrderRecordStore(file);
    expect(s.get('old')).toMatchObject({ status: 'filled', cumExecQty: 0.01 });
    expect(lines(file).map((l) => JSON.parse(l) as OrderRecord)).toEqual([record('old', 'filled', { cumExecQty: 0.01 })]);
  });

  it('compacts once the journal holds far more lines than records, keeping every record', () => {
    const file = fileIn();
    const s = new JsonFileOrderRecordStore(file);
    for (let k = 0; k < 1200; k++) s.put(record('same', 'open', { updatedAtMs: k }));
    expect(lines(file).length).toBeLessThan(1200);
    expect(new JsonFileOrderRecordStore(file).get('same')?.updatedAtMs).toBe(1199);
  });
});
