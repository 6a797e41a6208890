import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/core/clock.js';
import { BatchWriter } from '../src/sinks/db/batch-writer.js';
import { PgliteDatabase } from '../src/sinks/db/database.js';
import { migrate } from '../src/sinks/db/migrator.js';
import { sampleRow } from '../src/sinks/db/sample-rows.js';
import { loadTradeHistory } from '../src/sinks/db/trade-history.js';

describe('trade history from the store (GET /trades/history)', () => {
  let db: PgliteDatabase;
  const base = 1_765_000_000_000;
  beforeAll(async () => {
    db = await PgliteDatabase.open(undefined);
    await migrate(db, {});
    const writer = new BatchWriter({ db, clock: new VirtualClock(0), journalDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ws-trades-')), maxBatchRows: 100 });
    // 25 trades one minute apart, every fifth by another agent; trade 3 closed with a loss.
    for (let i = 0; i < 25; i++) {
      const row = sampleRow('trades', i, { tag: 'TH', baseMs: base });
      writer.enqueue('trades', {
        ...row,
        openedAtMs: base + i * 60_000,
        agentName: i % 5 === 4 ? 'other' : 'execution',
        ...(i === 3 ? { status: 'closed', exitPrice: row.entryPrice * 0.97, pnlUsd: -30.5, pnlPct: -3, exitReason: 'stop_loss', closedAtMs: base + 3 * 60_000 + 5_000 } : {}),
      });
    }
    await writer.close();
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  });

  it("lists one agent's trades newest first and pages with the oldest time of the previous page", async () => {
    const first = await loadTradeHistory(db, 'execution', 8);
    expect(first.map((t) => t.tradeId)).toEqual([23, 22, 21, 20, 18, 17, 16, 15].map((i) => `TH-trade-${i}`));
    const second = await loadTradeHistory(db, 'execution', 8, first[first.length - 1]!.openedAtMs);
    expect(second.map((t) => t.tradeId)).toEqual([13, 12, 11, 10, 8, 7, 6, 5].map((i) => `TH-trade-${i}`));
    const rest = await loadTradeHistory(db, 'execution', 1000, second[second.length - 1]!.openedAtMs);
    expect(rest.map((t) => t.tradeId)).toEqual([3, 2, 1, 0].map((i) => `TH-trade-${i}`));
    expect(rest[0]).toMatchObject({ status: 'closed', pnlUsd: -30.5, pnlPct: -3, exitReason: 'stop_loss', closedAtMs: base + 185_000, openedAtMs: base + 180_000, side: 'short' });
    expect(rest[1]).toMatchObject({ status: 'open', exitPrice: null, closedAtMs: null, liquidationRange: '7d', liquidationSource: 'estimate', feesUsd: 1.25 });
    expect((await loadTradeHistory(db, 'other', 100)).map((t) => t.tradeId)).toEqual([24, 19, 14, 9, 4].map((i) => `TH-trade-${i}`));
    // Limits are clamped, never an error: 0 or garbage reads one.
    expect(await loadTradeHistory(db, 'execution', 0)).toHaveLength(1);
    expect(await loadTradeHistory(db, 'execution', Number.NaN)).toHaveLength(1);
  });
});
