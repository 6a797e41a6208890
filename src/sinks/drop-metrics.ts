import { Counter, type Registry } from 'prom-client';

/** What {@link registerDropMetrics} reads at scrape time. */
export interface DropSources {
  /** The tape recorder's counters, or undefined when not recording. */
  readonly tape: () => { readonly dropped: number; readonly gaps: number } | undefined;
  /** Per WebSocket connection: messages refused for exceeding the payload limit. */
  readonly oversize: () => readonly { readonly id: string; readonly oversizeFrames: number }[];
}

/**
 * Counters for data the daemon refused or could not keep, so that a loss shows on a dashboard instead of only in
 * a log line: frames the tape recorder dropped (and the gap markers that record them) and WebSocket messages
 * refused as oversize. Collect-driven, like the engine's counters, so the hot path never touches prom-client.
 */
export function registerDropMetrics(registry: Registry, sources: DropSources): void {
  new Counter({
    name: 'whalestack_tape_dropped_frames_total',
    help: 'Frames the tape recorder could not write (disk backlog, file error); each run is marked in the tape by a gap record',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.tape()?.dropped ?? 0);
    },
  });
  new Counter({
    name: 'whalestack_tape_gaps_total',
    help: 'Gap markers written to the tape (runs of dropped frames)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.tape()?.gaps ?? 0);
    },
  });
  new Counter({
    name: 'whalestack_ws_oversize_frames_total',
    help: 'WebSocket messages refused for exceeding WS_MAX_FRAME_BYTES (each closes and reopens that connection)',
    labelNames: ['connection'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of sources.oversize()) this.inc({ connection: c.id }, c.oversizeFrames);
    },
  });
}
