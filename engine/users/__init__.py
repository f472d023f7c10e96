"""The users package; its public surface is `engine.users.api` (everything else here is internal)."""
