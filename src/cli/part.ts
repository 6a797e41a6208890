import type { Logger } from '../sinks/logger.js';

/**
 * One piece of the daemon with a lifecycle: the HTTP server, the store, the stream, the engine… The daemon is a
 * list of parts, started in list order and stopped in reverse, so a part may rely on every part before it being
 * up while it starts and still up while it stops.
 */
export interface Part {
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

export interface RunningParts {
  /** Stops every started part in reverse order, once; a part whose stop throws is logged and the rest still stop. */
  stop(): Promise<void>;
}

/**
 * Starts `parts` in order. If one fails to start, the ones already started are stopped (in reverse) and the
 * error is rethrown with the part's name, so a half-started daemon never lingers with open sockets or files.
 */
export async function startParts(parts: readonly Part[], log: Logger): Promise<RunningParts> {
  const started: Part[] = [];
  const stopAll = async (): Promise<void> => {
    for (const part of started.reverse()) {
      try {
        await part.stop();
      } catch (err) {
        log.error({ part: part.name, err: err instanceof Error ? err.message : String(err) }, `error stopping ${part.name}`);
      }
    }
    started.length = 0;
  };
  for (const part of parts) {
    try {
      await part.start();
    } catch (err) {
      await stopAll();
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(`${part.name}: ${message}`, { cause: err });
    }
    started.push(part);
  }
  let stopping: Promise<void> | undefined;
  return { stop: () => (stopping ??= stopAll()) };
}
