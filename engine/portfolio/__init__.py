"""The portfolio package; its public surface is `engine.portfolio.api` (everything else here is internal)."""
