import { describe, expect, it } from 'vitest';
import { marketCapsBySymbol } from '../src/cli/market-caps.js';
import { parseCoinsMarketsData } from '../src/streams/coinglass-schemas.js';

describe('market caps from coins-markets', () => {
  it('parses the documented rows and maps coins to Bybit symbols, multiplier prefixes included', () => {
    const parsed = parseCoinsMarketsData([
      { symbol: 'BTC', current_price: 84773.6, market_cap_usd: 1683310500117.051, open_interest_usd: 55002072334.9376 },
      { symbol: 'PEPE', market_cap_usd: '4200000000' },
      { symbol: 'NEW', market_cap_usd: null },
    ]);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value[2]).toEqual({ coin: 'NEW', marketCapUsd: undefined, openInterestUsd: undefined });
    const caps = marketCapsBySymbol(parsed.value, ['BTCUSDT', '1000PEPEUSDT', 'NEWUSDT', 'ETHUSDT']);
    expect([...caps]).toEqual([['BTCUSDT', 1683310500117.051], ['1000PEPEUSDT', 4.2e9]]);
  });

  it('refuses a reply whose rows have no symbol (a shape error, not a crash)', () => {
    const bad = parseCoinsMarketsData([{ market_cap_usd: 1 }]);
    expect(bad.ok).toBe(false);
  });
});
