"""The market package; its public surface is `engine.market.api` (everything else here is internal)."""
