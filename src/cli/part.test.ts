import { describe, expect, it } from 'vitest';
import { createLogger } from '../sinks/logger.js';
import { startParts, type Part } from './part.js';

const log = createLogger('silent');

function recorder(events: string[], name: string, failOn?: 'start' | 'stop'): Part {
  return {
    name,
    async start() {
      events.push(`start ${name}`);
      if (failOn === 'start') throw new Error('boom');
    },
    stop() {
      events.push(`stop ${name}`);
      if (failOn === 'stop') throw new Error('stop failed');
    },
  };
}

describe('startParts', () => {
  it('starts in list order and stops in reverse, once', async () => {
    const events: string[] = [];
    const running = await startParts(['a', 'b', 'c'].map((n) => recorder(events, n)), log);
    await Promise.all([running.stop(), running.stop()]);
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('a part that fails to start stops the ones already started and names itself in the error', async () => {
    const events: string[] = [];
    const parts = [recorder(events, 'a'), recorder(events, 'b'), recorder(events, 'c', 'start'), recorder(events, 'd')];
    await expect(startParts(parts, log)).rejects.toThrow('c: boom');
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop b', 'stop a']);
  });

  it('a part whose stop throws does not keep the others running', async () => {
    const events: string[] = [];
    const running = await startParts([recorder(events, 'a'), recorder(events, 'b', 'stop'), recorder(events, 'c')], log);
    await running.stop();
    expect(events.slice(3)).toEqual(['stop c', 'stop b', 'stop a']);
  });
});
