import type { Logger } from './logger.js';

export type SummaryLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogSummaryOptions {
  /** Lines written in full per window before the rest are only counted. Default 5. */
  readonly firstLines?: number;
  /** Window length in ms; 0 (default) means one window for the summary's whole life (flush() closes it). */
  readonly windowMs?: number;
  /** Clock for windows; required when windowMs > 0. */
  readonly now?: () => number;
  readonly level?: SummaryLevel;
}

/**
 * A log line that can come by the thousand (one per symbol, per bad tape line, per journal spill): the first
 * `firstLines` are written in full, the rest are only counted, and one summary line gives the count and the
 * span they covered (at the end of each window, or on `flush()`). A flood of identical warnings hides the one
 * line that matters and can fill a disk; a count keeps the information.
 */
export class LogSummary {
  private windowStart = Number.NaN;
  private written = 0;
  private suppressed = 0;
  private total = 0;
  private lastFields: object | undefined;

  constructor(
    private readonly log: Logger,
    /** Names the category in the summary line, e.g. "tape issues". */
    private readonly what: string,
    private readonly opts: LogSummaryOptions = {},
  ) {}

  /** Lines seen so far (written or suppressed). */
  get count(): number {
    return this.total;
  }

  /** Logs `msg` in full or counts it. */
  line(fields: object, msg: string): void {
    const windowMs = this.opts.windowMs ?? 0;
    if (windowMs > 0) {
      const t = this.opts.now?.() ?? 0;
      if (Number.isNaN(this.windowStart)) this.windowStart = t;
      else if (t - this.windowStart >= windowMs) {
        this.flush();
        this.windowStart = t;
      }
    }
    this.total++;
    if (this.written < (this.opts.firstLines ?? 5)) {
      this.written++;
      this.log[this.opts.level ?? 'warn'](fields, msg);
      if (this.written === (this.opts.firstLines ?? 5)) this.log[this.opts.level ?? 'warn']({}, `further ${this.what} are counted, not logged one by one`);
    } else {
      this.suppressed++;
      this.lastFields = fields;
    }
  }

  /** Writes the count of lines not logged since the last flush (if any) and starts a new window. */
  flush(): void {
    if (this.suppressed > 0) {
      this.log[this.opts.level ?? 'warn']({ suppressed: this.suppressed, total: this.total, last: this.lastFields }, `${this.suppressed} more ${this.what} not logged one by one (${this.total} in all)`);
    }
    this.written = 0;
    this.suppressed = 0;
    this.lastFields = undefined;
  }
}
