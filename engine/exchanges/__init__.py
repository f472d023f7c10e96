"""The exchanges package; its public surface is `engine.exchanges.api` (everything else here is internal)."""
