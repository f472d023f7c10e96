"""The blocks package; its public surface is `engine.blocks.api` (everything else here is internal)."""
