import { z } from 'zod';

/**
 * The JSON messages whalestack publishes on its bus (in-process, Redis Streams, Redis pub/sub), version 1.
 * docs/bus.md is the human-readable contract; these zod schemas are the machine-readable one, and consumers
 * in TypeScript can parse with them directly.
 *
 * Gotchas:
 * - JSON cannot carry NaN or ±Infinity, and the engine uses NaN for "not computable yet". Every measured
 *   number is therefore `number | null` on the wire; the encoders map non-finite values (and -0) for you.
 * - Timestamps (`tsInit`, `emittedAt`, `rankedAt`) are epoch milliseconds and are never null: a non-finite
 *   timestamp is a broken invariant and the encoder throws.
 * - `id` is deterministic so a consumer can drop duplicates (a message can be written twice when Redis drops
 *   the connection after storing it but before replying).
 * - Schemas strip unknown fields: new optional fields may be added under `v: 1`; anything incompatible bumps `v`.
 */

/** Current wire version. */
export const BUS_SCHEMA_VERSION = 1;

const num = z.number().nullable();
const timestampMs = z.number();
const direction = z.enum(['LONG', 'SHORT']);

export const busClusterSchema = z.object({
  low: num,
  high: num,
  centre: num,
  usd: num,
  side: z.enum(['long', 'short']),
  range: z.string(),
});

export const signalFeaturesSchema = z
  .object({
    lastPrice: num,
    priceChangePct5m: num,
    oiChangePct15m: num,
    volumeRatio5m: num,
  })
  .catchall(num);

export const signalMessageSchema = z.object({
  v: z.literal(BUS_SCHEMA_VERSION),
  type: z.literal('signal'),
  id: z.string().min(1),
  symbol: z.string().min(1),
  direction,
  score: num,
  imbalance: num,
  tsInit: timestampMs,
  emittedAt: timestampMs,
  features: signalFeaturesSchema,
  target: busClusterSchema.nullable(),
  opposite: busClusterSchema.nullable(),
  heatmapAgesMs: z.record(z.string(), num),
});

export const rankingEntrySchema = z.object({
  rank: z.number().int().min(1),
  symbol: z.string().min(1),
  score: num,
  direction: z.enum(['LONG', 'SHORT', 'NONE']),
  imbalance: num,
  clusterPct: num,
});

export const rankingMessageSchema = z.object({
  v: z.literal(BUS_SCHEMA_VERSION),
  type: z.literal('ranking'),
  id: z.string().min(1),
  rankedAt: timestampMs,
  top: z.array(rankingEntrySchema),
  armed: z.array(z.string().min(1)),
});

export const busMessageSchema = z.discriminatedUnion('type', [signalMessageSchema, rankingMessageSchema]);

export type BusCluster = z.infer<typeof busClusterSchema>;
export type SignalMessage = z.infer<typeof signalMessageSchema>;
export type RankingEntry = z.infer<typeof rankingEntrySchema>;
export type RankingMessage = z.infer<typeof rankingMessageSchema>;
export type BusMessage = z.infer<typeof busMessageSchema>;
export type BusMessageType = BusMessage['type'];

/** A cluster as the engine holds it (`RangedCluster` from core/imbalance.ts satisfies it). */
export interface ClusterInput {
  readonly low: number;
  readonly high: number;
  readonly centre: number;
  readonly usd: number;
  readonly side: 'long' | 'short';
  readonly range: string;
}

/** What `encodeSignal` needs; `Signal` from core/trigger.ts satisfies it (its features are plain numbers). */
export interface SignalInput {
  readonly symbol: string;
  readonly direction: 'LONG' | 'SHORT';
  readonly score: number;
  readonly imbalance: number;
  /** Local receipt time of the frame that completed the trigger (ms); part of the id. */
  readonly tsInit: number;
  readonly features: {
    readonly lastPrice: number;
    readonly priceChangePct5m: number;
    readonly oiChangePct15m: number;
    readonly volumeRatio5m: number;
  };
  readonly target: ClusterInput | undefined | null;
  readonly opposite: ClusterInput | undefined | null;
  readonly heatmapAgesMs: Readonly<Partial<Record<string, number>>>;
}

/** One leaderboard row; `CoinAssessment` from core/ranking.ts satisfies it. */
export interface RankingEntryInput {
  readonly symbol: string;
  readonly score: number;
  readonly direction: 'LONG' | 'SHORT' | 'NONE';
  readonly imbalance: number;
  readonly clusterPct: number;
}

/** What `encodeRanking` needs; map `Ranking<CoinAssessment>` from core/ranking.ts onto it. */
export interface RankingInput {
  readonly rankedAt: number;
  /** Best first; `rank` is the 1-based position in this array. */
  readonly top: readonly RankingEntryInput[];
  /** Armed symbols, or the armed coins themselves. */
  readonly armed: ReadonlyArray<string | { readonly symbol: string }>;
}

/** Finite numbers pass (with -0 as 0); NaN, ±Infinity and non-numbers become null. */
export function finiteOrNull(value: unknown): number | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  return value === 0 ? 0 : value;
}

function requireTimestamp(name: string, value: number): number {
  if (!Number.isFinite(value)) throw new Error(`bus: ${name} must be a finite epoch-ms timestamp, got ${value}`);
  return value === 0 ? 0 : value;
}

/** The deterministic signal id, `SYMBOL:tsInit` (e.g. `BTCUSDT:1718000000123`); consumers dedupe by it. */
export function signalId(symbol: string, tsInit: number): string {
  return `${symbol}:${tsInit}`;
}

/** The deterministic ranking id, `ranking:rankedAt`, or `ranking:shard:rankedAt` when shards rank separately. */
export function rankingId(rankedAt: number, shard?: string): string {
  return shard === undefined ? `ranking:${rankedAt}` : `ranking:${shard}:${rankedAt}`;
}

function encodeCluster(c: ClusterInput | undefined | null): BusCluster | null {
  if (c === undefined || c === null) return null;
  return {
    low: finiteOrNull(c.low),
    high: finiteOrNull(c.high),
    centre: finiteOrNull(c.centre),
    usd: finiteOrNull(c.usd),
    side: c.side,
    range: c.range,
  };
}

/**
 * Maps a signal onto its wire message. Every numeric feature of the input is carried (extra numeric fields
 * such as `priceChangePct1m` included; non-numeric ones are skipped). Throws only on a broken invariant
 * (empty symbol, non-finite `tsInit`/`emittedAtMs`).
 */
export function encodeSignal(signal: SignalInput, emittedAtMs: number): SignalMessage {
  if (signal.symbol.length === 0) throw new Error('bus: signal without a symbol');
  const tsInit = requireTimestamp('tsInit', signal.tsInit);
  const features: SignalMessage['features'] = {
    lastPrice: finiteOrNull(signal.features.lastPrice),
    priceChangePct5m: finiteOrNull(signal.features.priceChangePct5m),
    oiChangePct15m: finiteOrNull(signal.features.oiChangePct15m),
    volumeRatio5m: finiteOrNull(signal.features.volumeRatio5m),
  };
  for (const [key, value] of Object.entries(signal.features)) {
    if (typeof value === 'number' && !(key in features)) features[key] = finiteOrNull(value);
  }
  const heatmapAgesMs: Record<string, number | null> = {};
  for (const [range, ageMs] of Object.entries(signal.heatmapAgesMs)) {
    if (ageMs !== undefined) heatmapAgesMs[range] = finiteOrNull(ageMs);
  }
  return {
    v: BUS_SCHEMA_VERSION,
    type: 'signal',
    id: signalId(signal.symbol, tsInit),
    symbol: signal.symbol,
    direction: signal.direction,
    score: finiteOrNull(signal.score),
    imbalance: finiteOrNull(signal.imbalance),
    tsInit,
    emittedAt: requireTimestamp('emittedAt', emittedAtMs),
    features,
    target: encodeCluster(signal.target),
    opposite: encodeCluster(signal.opposite),
    heatmapAgesMs,
  };
}

/** Maps a ranking onto its wire message; `shard` only changes the id. Throws on a non-finite `rankedAt`. */
export function encodeRanking(ranking: RankingInput, shard?: string): RankingMessage {
  const rankedAt = requireTimestamp('rankedAt', ranking.rankedAt);
  return {
    v: BUS_SCHEMA_VERSION,
    type: 'ranking',
    id: rankingId(rankedAt, shard),
    rankedAt,
    top: ranking.top.map((c, i) => ({
      rank: i + 1,
      symbol: c.symbol,
      score: finiteOrNull(c.score),
      direction: c.direction,
      imbalance: finiteOrNull(c.imbalance),
      clusterPct: finiteOrNull(c.clusterPct),
    })),
    armed: ranking.armed.map((a) => (typeof a === 'string' ? a : a.symbol)),
  };
}

export type SerializeResult =
  | { readonly ok: true; readonly json: string; readonly message: BusMessage }
  | { readonly ok: false; readonly error: string };

/**
 * Validates an outgoing message and renders it as JSON. Never throws: a message that does not match the
 * schema (e.g. a NaN slipped in without `encodeSignal`) comes back as `{ ok: false, error }`. `message` is the
 * validated copy (unknown fields stripped), i.e. exactly what a remote consumer will parse.
 */
export function serializeBusMessage(message: BusMessage): SerializeResult {
  const parsed = busMessageSchema.safeParse(message);
  if (!parsed.success) return { ok: false, error: describeIssues(parsed.error) };
  return { ok: true, json: JSON.stringify(parsed.data), message: parsed.data };
}

export type DecodeResult = { readonly ok: true; readonly message: BusMessage } | { readonly ok: false; readonly error: string };

/** Parses one received payload (a stream entry's `data` field or a pub/sub message). Never throws. */
export function decodeBusMessage(json: string): DecodeResult {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    return { ok: false, error: `bus: payload is not JSON (${(err as Error).message})` };
  }
  const parsed = busMessageSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, error: describeIssues(parsed.error) };
  return { ok: true, message: parsed.data };
}

function describeIssues(error: z.ZodError): string {
  const first = error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return `bus: message does not match schema v${BUS_SCHEMA_VERSION}: ${first}`;
}
