import fs from 'node:fs';
import v8 from 'node:v8';
if (process.env.LIFTOFF) v8.setFlagsFromString('--liftoff-only');
const { PgliteDatabase } = await import('./dist/src/sinks/db/database.js');
const { BatchWriter } = await import('./dist/src/sinks/db/batch-writer.js');
const { migrate } = await import('./dist/src/sinks/db/migrator.js');
const { sampleRow, REALISTIC_MIX } = await import('./dist/src/sinks/db/sample-rows.js');
const { VirtualClock } = await import('./dist/src/core/clock.js');
const m = () => { global.gc(); const u = process.memoryUsage(); return `rss ${(u.rss/1048576).toFixed(0)} ext ${(u.external/1048576).toFixed(0)} heap ${(u.heapUsed/1048576).toFixed(0)}`; };
const dir = '/tmp/h8-w-dir'; fs.rmSync(dir, { recursive: true, force: true });
const db = await PgliteDatabase.open(dir);
await migrate(db, {});
console.log('opened+migrated', m());
const batch = Number(process.env.BATCH ?? 2000);
const jd = fs.mkdtempSync('/tmp/h8-wj-');
const writer = new BatchWriter({ db, clock: new VirtualClock(0), journalDir: jd, maxBatchRows: batch, maxBufferedRows: 1_000_000 });
let i = 0;
for (let round = 0; round < 6; round++) {
  for (let k = 0; k < 10000; k++, i++) {
    const [t] = REALISTIC_MIX[i % REALISTIC_MIX.length];
    writer.enqueue(t, sampleRow(t, i, { levels: 200 }));
  }
  await writer.flush();
  console.log('batch', batch, 'rows', i, m());
}
await writer.close();
const txt = fs.readFileSync('/proc/self/smaps', 'utf8');
const maps = []; let cur;
for (const line of txt.split('\n')) {
  if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) { const [range, perm, , , , name] = line.split(/\s+/); const [a, b] = range.split('-').map((x) => parseInt(x, 16)); cur = { size: (b - a) / 1048576, perm, name: name ?? '', rss: 0 }; maps.push(cur); }
  else if (line.startsWith('Rss:')) cur.rss = parseInt(line.split(/\s+/)[1]) / 1024;
}
maps.sort((x, y) => y.rss - x.rss);
for (const mm of maps.slice(0, 10)) console.log(`rss ${mm.rss.toFixed(1)} MB of ${mm.size.toFixed(0)} MB ${mm.perm} ${mm.name}`);
console.log('total', maps.reduce((a, x) => a + x.rss, 0).toFixed(0));

await db.close();
