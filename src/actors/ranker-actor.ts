import type { CoinAssessment, RankingConfig } from '../core/ranking.js';
import { rankCoins, withSuccessRate } from '../core/ranking.js';
import { SCORE_SUCCESS_WEIGHT } from '../core/scoring.js';
import type { ActorBehavior } from './actor-system.js';
import { nextGridTime, symbolActorId, type RankedCoin, type RankerMessage, type RankingUpdated } from './messages.js';

export interface RankerConfig extends RankingConfig {
  /** Ranking period; passes run on the epoch grid so a replay ranks at the same instants as the live run. */
  readonly intervalMs: number;
}

export interface RankerState {
  readonly assessments: Map<string, CoinAssessment>;
  /** Learned success rates by symbol (ExecutionActor); coins without one keep the evaluation's prior. */
  readonly successRates: Map<string, number>;
  armed: ReadonlySet<string>;
  last: RankingUpdated | undefined;
  passes: number;
}

/**
 * Ranks every coin by score every `intervalMs` and after each refresh-driven assessment, keeps the top N,
 * and arms the trigger on the top K coins that have a direction (disarming the ones that dropped out).
 */
export function rankerActor(config: RankerConfig): ActorBehavior<RankerState, RankerMessage, RankingUpdated> {
  return {
    kind: 'ranker',
    init: () => ({ assessments: new Map(), successRates: new Map(), armed: new Set(), last: undefined, passes: 0 }),
    receive(state, msg, ctx) {
      switch (msg.kind) {
        case 'start': {
          const at = nextGridTime(ctx.clock.now(), config.intervalMs);
          ctx.setTimer('rank', at, { kind: 'rank', atMs: at } satisfies RankerMessage);
          return state;
        }
        case 'rank':
          rank(state, msg.atMs, ctx);
          ctx.setTimer('rank', msg.atMs + config.intervalMs, { kind: 'rank', atMs: msg.atMs + config.intervalMs } satisfies RankerMessage);
          return state;
        case 'assessed': {
          const rate = state.successRates.get(msg.assessment.symbol);
          state.assessments.set(msg.assessment.symbol, rate === undefined ? msg.assessment : withSuccessRate(msg.assessment, rate));
          if (msg.refresh) rank(state, msg.assessment.evaluatedAtMs, ctx);
          return state;
        }
        case 'success-rates':
          for (const [symbol, rate] of msg.rates) {
            state.successRates.set(symbol, rate);
            const a = state.assessments.get(symbol);
            if (a !== undefined) state.assessments.set(symbol, withSuccessRate(a, rate));
          }
          return state;
      }
    },
  };

  function rank(state: RankerState, atMs: number, ctx: Parameters<ActorBehavior<RankerState, RankerMessage, RankingUpdated>['receive']>[2]): void {
    const ranking = rankCoins([...state.assessments.values()], config);
    const armed = new Set(ranking.armed.map((c) => c.symbol));
    for (const symbol of state.armed) if (!armed.has(symbol)) ctx.tell(symbolActorId(symbol), { kind: 'disarm' });
    // Re-send the setup even to coins already armed: their clusters and score may have moved.
    for (const coin of ranking.armed) ctx.tell(symbolActorId(coin.symbol), { kind: 'arm', setup: coin });
    state.armed = armed;
    state.passes++;
    const top: RankedCoin[] = ranking.top.map((c, i) => ({
      rank: i + 1,
      symbol: c.symbol,
      score: c.score,
      direction: c.direction,
      imbalance: c.imbalance,
      clusterPct: c.clusterPct,
      successRate: c.scoreBreakdown.successTerm / SCORE_SUCCESS_WEIGHT,
    }));
    state.last = { kind: 'ranking', rankedAt: atMs, coins: ranking.ranked.length, top, armed: ranking.armed.map((c) => c.symbol) };
    ctx.emit(state.last);
  }
}
