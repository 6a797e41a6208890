import { randomBytes } from 'node:crypto';
import type { ControlCommand } from './operator-console.js';

export interface PendingControl {
  readonly nonce: string;
  readonly command: ControlCommand;
  readonly symbol: string | undefined;
  readonly chatId: number;
  readonly userId: number | undefined;
  readonly expiresAtMs: number;
  /** The prompt's message id, once sent (to edit it when answered or expired). */
  messageId: number | undefined;
}

/**
 * Controls waiting for the operator's "Confirm". A nonce is single use, bound to the chat that asked, and dies at
 * `expiresAtMs`: a late tap, a replayed callback or a tap from another chat applies nothing.
 */
export class Confirmations {
  private readonly pending = new Map<string, PendingControl>();

  constructor(private readonly ttlMs: number, private readonly now: () => number) {}

  ask(command: ControlCommand, symbol: string | undefined, chatId: number, userId: number | undefined): PendingControl {
    const p: PendingControl = { nonce: randomBytes(8).toString('hex'), command, symbol, chatId, userId, expiresAtMs: this.now() + this.ttlMs, messageId: undefined };
    this.pending.set(p.nonce, p);
    return p;
  }

  /** Takes the pending control for a tap: `ok`, `expired`, or `unknown` (used, never issued, or another chat's). */
  take(nonce: string, chatId: number): { readonly state: 'ok' | 'expired'; readonly control: PendingControl } | { readonly state: 'unknown' } {
    const p = this.pending.get(nonce);
    if (p === undefined || p.chatId !== chatId) return { state: 'unknown' };
    this.pending.delete(nonce);
    return { state: this.now() > p.expiresAtMs ? 'expired' : 'ok', control: p };
  }

  /** Removes and returns every control past its expiry (their prompts are then edited to say so). */
  sweep(): PendingControl[] {
    const now = this.now();
    const out: PendingControl[] = [];
    for (const [k, p] of this.pending) {
      if (now > p.expiresAtMs) {
        this.pending.delete(k);
        out.push(p);
      }
    }
    return out;
  }

  get size(): number {
    return this.pending.size;
  }
}
