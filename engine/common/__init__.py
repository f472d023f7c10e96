"""Rules every package shares, all public: exact rounding to a market's precision, timeframes and
the candle grid, trading-pair symbols, and secrets encrypted at rest. Pure; no I/O."""
