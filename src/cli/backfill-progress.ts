import cliProgress from 'cli-progress';
import type { BackfillProgress } from '../streams/history-backfill.js';

/** What the display needs: a place to write, whether it is a terminal, and time. */
export interface ProgressOutput {
  readonly stream: NodeJS.WriteStream | NodeJS.WritableStream;
  readonly isTTY: boolean;
  readonly now: () => number;
  /** Without a TTY: one line at most this often. Default 5 000 ms. */
  readonly lineEveryMs?: number;
}

/**
 * The backfill's progress for a person: on a terminal a live `cli-progress` bar (coins done, rows, request
 * rate, ETA); otherwise (a log file, CI, a pipe) one plain line every few seconds, which a bar's carriage
 * returns would turn into noise.
 */
export class BackfillProgressDisplay {
  private readonly bar: cliProgress.SingleBar | undefined;
  private readonly startedMs: number;
  private lastLineMs = -Infinity;
  private last: BackfillProgress | undefined;

  constructor(private readonly out: ProgressOutput, total: number) {
    this.startedMs = out.now();
    if (out.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          format: 'backfill |{bar}| {value}/{total} coins | {rows} rows | {rate} req/s | {limited} rate-limited | ETA {eta_formatted}',
          stream: out.stream as NodeJS.WritableStream,
          hideCursor: true,
          etaBuffer: 20,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { rows: 0, rate: '0.0', limited: 0 });
    }
  }

  update(p: BackfillProgress): void {
    this.last = p;
    const elapsedSec = Math.max(0.001, (this.out.now() - this.startedMs) / 1000);
    const rate = (p.requests / elapsedSec).toFixed(1);
    const coins = p.symbolsDone + p.symbolsFailed;
    if (this.bar !== undefined) {
      this.bar.update(coins, { rows: p.rowsWritten, rate, limited: p.rateLimited });
      return;
    }
    const now = this.out.now();
    if (now - this.lastLineMs < (this.out.lineEveryMs ?? 5_000)) return;
    this.lastLineMs = now;
    this.out.stream.write(`${this.line(p, rate, elapsedSec)}\n`);
  }

  /** Stops the bar (or writes the last line). */
  stop(): void {
    this.bar?.stop();
    if (this.bar === undefined && this.last !== undefined) {
      const elapsedSec = Math.max(0.001, (this.out.now() - this.startedMs) / 1000);
      this.out.stream.write(`${this.line(this.last, (this.last.requests / elapsedSec).toFixed(1), elapsedSec)}\n`);
    }
  }

  private line(p: BackfillProgress, rate: string, elapsedSec: number): string {
    const coins = p.symbolsDone + p.symbolsFailed;
    const etaSec = coins > 0 && coins < p.symbolsTotal ? Math.round((elapsedSec / coins) * (p.symbolsTotal - coins)) : undefined;
    return `backfill: ${coins}/${p.symbolsTotal} coins (${p.symbolsFailed} failed), ${p.rowsWritten} rows stored, ${p.requests} requests (${rate}/s, ${p.rateLimited} rate-limited)${etaSec === undefined ? '' : `, ETA ${etaSec} s`}`;
  }
}
