/** The runtime controls an operator may apply (they change state, so they are confirmed first). */
export type ControlCommand = 'pause' | 'resume' | 'stop-entry' | 'force-exit' | 'kill' | 'unkill';

/**
 * What a chat front end (Telegram today) may ask of the daemon: read-only views as plain text (the front end
 * escapes and formats them) and the runtime controls. The wiring implements it from the daemon's parts, so the
 * bot never reaches into the engine or the actor.
 */
export interface OperatorConsole {
  status(): string;
  top(): string;
  /** Undefined when the coin is unknown. */
  coin(symbol: string): string | undefined;
  positions(): string;
  orders(): string;
  /** Closed trades of the period from the store (and memory), so `all` is every trade ever closed. */
  pnl(period: 'day' | 'week' | 'all'): string | Promise<string>;
  trades(limit: number): string;
  /** Applies a control through the execution actor; `by` is who sent it (kept in agent_logs). */
  control(command: ControlCommand, symbol: string | undefined, by: string): Promise<{ readonly ok: boolean; readonly message: string }>;
}

/** One command as the audit trail (`agent_logs`) records it. */
export interface CommandAudit {
  readonly tsMs: number;
  /** Unique per update (Telegram's update id, or the callback query's). */
  readonly eventId: string;
  readonly chatId: number | undefined;
  readonly userId: number | undefined;
  readonly username: string | undefined;
  readonly command: string;
  readonly args: string;
  readonly outcome: 'answered' | 'confirm-asked' | 'applied' | 'refused' | 'expired' | 'cancelled' | 'unauthorized' | 'error';
  readonly message: string;
}
