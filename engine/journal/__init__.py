"""The trading journal: a user's trades open and closed, their journal fields and statistics."""
