import type { DbSession } from './database.js';

/**
 * Execution state documents (`execution_state`: the paper broker's account, positions, resting orders and
 * stops; the risk state; the execution actor's seen signal ids), one JSON document per name, newest wins.
 * Written directly rather than through the batch writer: after a fill the state must be on disk before the
 * next decision, and a restart must find exactly the last one. A save older than the stored one is ignored,
 * so a late write after a restart cannot roll state back.
 */
export class ExecutionStateStore {
  constructor(private readonly db: DbSession) {}

  async load<T>(name: string): Promise<{ state: T; updatedAtMs: number } | undefined> {
    const r = await this.db.query<{ state: T | string; updated_at: Date }>('SELECT state, updated_at FROM execution_state WHERE name = $1', [name]);
    const row = r.rows[0];
    if (row === undefined) return undefined;
    const state = typeof row.state === 'string' ? (JSON.parse(row.state) as T) : row.state;
    return { state, updatedAtMs: new Date(row.updated_at).getTime() };
  }

  /** Upserts `state` as of `updatedAtMs`; returns false when a newer document was already stored. */
  async save(name: string, state: unknown, updatedAtMs: number): Promise<boolean> {
    const r = await this.db.query(
      `INSERT INTO execution_state (name, state, updated_at) VALUES ($1, $2::jsonb, to_timestamp($3 / 1000.0))
       ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
       WHERE execution_state.updated_at <= EXCLUDED.updated_at`,
      [name, JSON.stringify(state), updatedAtMs],
    );
    return r.rowCount > 0;
  }
}
