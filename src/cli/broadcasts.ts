import { broadcastChannelsFromConfig } from '../sinks/notify/broadcast-channels.js';
import type { DaemonWiring } from './daemon-parts.js';
import type { Part } from './part.js';

/**
 * The email, X and SMS channels configured in the environment, each behind its own queue, exposed as
 * `w.broadcasts` for the notifier to fan notifications out to. Started before the parts that produce
 * notifications and stopped after them, so what they queued at shutdown still gets a few seconds to leave.
 */
export function broadcastPart(w: DaemonWiring): Part {
  return {
    name: 'broadcasts',
    start() {
      w.broadcasts = broadcastChannelsFromConfig(w.config, { clock: w.clock, log: w.log, registry: w.metrics.registry });
    },
    async stop() {
      const channels = w.broadcasts ?? [];
      w.broadcasts = [];
      await Promise.all(channels.map((c) => c.close()));
    },
  };
}
