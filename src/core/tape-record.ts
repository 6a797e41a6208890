/**
 * Tape format (version 1): what `record` writes and `replay`/`backtest` read.
 *
 * A tape is a set of files `<prefix>-<YYYYMMDDTHHmmssSSS>-<seq>.jsonl.gz` (UTC time the file was opened;
 * the names sort in time order). Each file is gzip-compressed JSON Lines, UTF-8, `\n`-terminated:
 *
 * ```text
 * {"whalestack":"tape","v":1,"startedAt":1786310817583,"meta":{"host":"…"}}      ← header, first line of every file
 * {"t":1786310817601.25,"s":"bybit-ws-0","d":"{\"topic\":\"tickers.BTCUSDT\",…}"}
 * {"t":1786310817700,"s":"bybit-rest","k":"http","u":"https://api.bybit.com/v5/market/instruments-info?category=linear","d":"{…}"}
 * ```
 *
 * - `t`  tsInit: local receipt time, epoch ms, may be fractional; non-decreasing across the whole tape set.
 * - `s`  source name (`bybit-ws-0`, `bybit-rest`, `coinglass`, `sim`, …).
 * - `k`  optional kind; absent means a WebSocket frame, `http` means a REST reply body, `gap` marks frames the
 *        recorder had to drop (`d` is a {@link TapeGap}: count and time span).
 * - `u`  optional URL of an http reply. URLs carrying credentials are refused (see {@link findSecretInUrl}).
 * - `d`  the raw frame text exactly as received, so replay goes through the same parser as live.
 *
 * Readers skip (and report) a record whose `t` is below the previous one instead of clamping it: the tape
 * is then broken and replay must not invent an order. Unknown extra keys are ignored on read.
 */

/** One recorded frame. */
export interface TapeRecord {
  /** tsInit, epoch ms (fractional allowed). */
  readonly t: number;
  /** Source name. */
  readonly s: string;
  /** Raw frame text, verbatim. */
  readonly d: string;
  /** Kind; absent for WebSocket frames, `http` for REST replies. */
  readonly k?: string;
  /** Request URL of an http reply. */
  readonly u?: string;
}

/** `k` of a gap marker: frames the recorder could not write (disk backlog, file error). */
export const TAPE_GAP_KIND = 'gap';
/** `s` of a gap marker. */
export const TAPE_GAP_SOURCE = 'tape';

/**
 * `d` of a gap marker (JSON). The tape promises every raw frame; when it cannot keep that promise it says so in
 * place, with the count and the receipt-time span of what is missing, and replay reports it.
 */
export interface TapeGap {
  readonly dropped: number;
  /** tsInit of the first and last dropped frame, epoch ms. */
  readonly fromT: number;
  readonly toT: number;
  readonly reason: string;
}

/** The dropped-frame count of a gap marker's `d`, or 0 when it does not read as one (a damaged tape). */
export function gapDroppedCount(d: string): number {
  try {
    const g = JSON.parse(d) as Partial<TapeGap> | null;
    return typeof g?.dropped === 'number' && Number.isSafeInteger(g.dropped) && g.dropped > 0 ? g.dropped : 0;
  } catch {
    return 0;
  }
}

/** First line of each tape file. */
export interface TapeHeader {
  readonly whalestack: 'tape';
  readonly v: typeof TAPE_VERSION;
  /** When the file was opened, epoch ms. */
  readonly startedAt: number;
  readonly meta: Readonly<Record<string, unknown>>;
}

export const TAPE_VERSION = 1;

export type TapeDecodeResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Query parameter names that carry credentials (compared case-insensitively). */
const SECRET_PARAM = /^(api[_-]?key|api[_-]?secret|secret|sign|signature|x-bapi-sign|access[_-]?token|passphrase)$/i;
/** Telegram puts the bot token in the path: `/bot123456:ABC…/sendMessage`. */
const SECRET_PATH = /\/bot\d+:[A-Za-z0-9_-]+/;

/**
 * Returns why `url` looks like it carries a credential (api key, signature, bot token), or undefined when it
 * looks public. Tapes are shared and committed to bug reports, so this is a hard guard, not a lint.
 */
export function findSecretInUrl(url: string): string | undefined {
  if (SECRET_PATH.test(url)) return 'url path contains a bot token';
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const hashAt = url.indexOf('#', q);
  const query = url.slice(q + 1, hashAt < 0 ? undefined : hashAt);
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '));
    } catch {
      name = rawName;
    }
    if (SECRET_PARAM.test(name)) return `url query has credential parameter "${name}"`;
  }
  return undefined;
}

/** Why `rec` cannot be written, or undefined when it is valid. */
export function validateTapeRecord(rec: TapeRecord): string | undefined {
  if (typeof rec.t !== 'number' || !Number.isFinite(rec.t) || rec.t < 0) return `t must be a finite number >= 0, got ${String(rec.t)}`;
  if (typeof rec.s !== 'string' || rec.s.length === 0) return 's must be a non-empty string';
  if (typeof rec.d !== 'string') return 'd must be a string';
  if (rec.k !== undefined && typeof rec.k !== 'string') return 'k must be a string when present';
  if (rec.u !== undefined) {
    if (typeof rec.u !== 'string') return 'u must be a string when present';
    const secret = findSecretInUrl(rec.u);
    if (secret !== undefined) return `refusing to record a secret: ${secret}`;
  }
  return undefined;
}

/**
 * One record as a JSON line without the trailing newline, keys in the fixed order t, s, k, u, d (so the same
 * record always encodes to the same bytes). Throws on an invalid record (see {@link validateTapeRecord}).
 */
export function encodeTapeRecord(rec: TapeRecord): string {
  const problem = validateTapeRecord(rec);
  if (problem !== undefined) throw new Error(`encodeTapeRecord: ${problem}`);
  let line = '{"t":' + String(rec.t === 0 ? 0 : rec.t) + ',"s":' + JSON.stringify(rec.s);
  if (rec.k !== undefined) line += ',"k":' + JSON.stringify(rec.k);
  if (rec.u !== undefined) line += ',"u":' + JSON.stringify(rec.u);
  return line + ',"d":' + JSON.stringify(rec.d) + '}';
}

/** Decodes one record line (no newline). Bad input is a result, never an exception. */
export function decodeTapeRecord(line: string): TapeDecodeResult<TapeRecord> {
  const parsed = parseObject(line);
  if (!parsed.ok) return parsed;
  const o = parsed.value;
  const t = o['t'];
  const s = o['s'];
  const d = o['d'];
  const k = o['k'];
  const u = o['u'];
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) return fail('"t" must be a finite number >= 0');
  if (typeof s !== 'string' || s.length === 0) return fail('"s" must be a non-empty string');
  if (typeof d !== 'string') return fail('"d" must be a string');
  if (k !== undefined && typeof k !== 'string') return fail('"k" must be a string');
  if (u !== undefined && typeof u !== 'string') return fail('"u" must be a string');
  const rec: { t: number; s: string; d: string; k?: string; u?: string } = { t, s, d };
  if (k !== undefined) rec.k = k;
  if (u !== undefined) rec.u = u;
  return { ok: true, value: rec };
}

/** The header line for a file opened at `startedAtMs` (no newline). */
export function encodeTapeHeader(startedAtMs: number, meta: Readonly<Record<string, unknown>> = {}): string {
  if (!Number.isFinite(startedAtMs)) throw new Error(`encodeTapeHeader: startedAt must be finite, got ${startedAtMs}`);
  return JSON.stringify({ whalestack: 'tape', v: TAPE_VERSION, startedAt: startedAtMs, meta });
}

/**
 * Decodes a header line. A line that is not a header at all fails with a reason starting `not a header`,
 * so a reader can tell "file without header" from "header of an unsupported version".
 */
export function decodeTapeHeader(line: string): TapeDecodeResult<TapeHeader> {
  const parsed = parseObject(line);
  if (!parsed.ok) return { ok: false, reason: `not a header: ${parsed.reason}` };
  const o = parsed.value;
  if (o['whalestack'] !== 'tape') return fail('not a header: missing "whalestack":"tape"');
  if (o['v'] !== TAPE_VERSION) return fail(`unsupported tape version ${JSON.stringify(o['v'])} (this build reads v${TAPE_VERSION})`);
  const startedAt = o['startedAt'];
  const meta = o['meta'] ?? {};
  if (typeof startedAt !== 'number' || !Number.isFinite(startedAt)) return fail('header "startedAt" must be a finite number');
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return fail('header "meta" must be an object');
  return { ok: true, value: { whalestack: 'tape', v: TAPE_VERSION, startedAt, meta: meta as Record<string, unknown> } };
}

function parseObject(line: string): TapeDecodeResult<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return fail(`invalid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('line is not a JSON object');
  return { ok: true, value: value as Record<string, unknown> };
}

function fail(reason: string): { readonly ok: false; readonly reason: string } {
  return { ok: false, reason };
}
