import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Prometheus instruments of the batch writer, registered on an injected Registry (never the global one, so
 * tests and several writers in one process do not collide). Labels are bounded: `table` is one of the fixed
 * table names and `reason` is `invalid_value` or `db_rejected`.
 */
export class WriterMetrics {
  readonly rowsWritten: Counter<'table'>;
  readonly flushDuration: Histogram<'table'>;
  readonly bufferedRows: Gauge;
  readonly spilledRows: Gauge;
  readonly spilledRowsTotal: Counter;
  readonly retries: Counter<'table'>;
  readonly quarantinedRows: Counter<'table' | 'reason'>;
  readonly journalCorruptRecords: Counter;

  constructor(registry: Registry, prefix = 'whalestack_db_') {
    const registers = [registry];
    this.rowsWritten = new Counter({
      name: `${prefix}rows_written_total`,
      help: 'Rows handed to the database per table (including rows skipped as already present)',
      labelNames: ['table'],
      registers,
    });
    this.flushDuration = new Histogram({
      name: `${prefix}flush_duration_seconds`,
      help: 'Duration of one batch write (COPY to staging + insert, one transaction)',
      labelNames: ['table'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.bufferedRows = new Gauge({ name: `${prefix}buffered_rows`, help: 'Rows waiting in memory (pending and in flight)', registers });
    this.spilledRows = new Gauge({ name: `${prefix}spilled_rows`, help: 'Rows waiting in the on-disk journal', registers });
    this.spilledRowsTotal = new Counter({ name: `${prefix}spilled_rows_total`, help: 'Rows ever spilled to the journal', registers });
    this.retries = new Counter({
      name: `${prefix}write_retries_total`,
      help: 'Batch writes retried after a connection or server failure',
      labelNames: ['table'],
      registers,
    });
    this.quarantinedRows = new Counter({
      name: `${prefix}quarantined_rows_total`,
      help: 'Rows set aside with a reason instead of being written',
      labelNames: ['table', 'reason'],
      registers,
    });
    this.journalCorruptRecords = new Counter({
      name: `${prefix}journal_corrupt_records_total`,
      help: 'Journal records skipped because of a torn tail or checksum mismatch',
      registers,
    });
  }
}
