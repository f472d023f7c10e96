"""The reports package; its public surface is `engine.reports.api` (everything else here is internal)."""
