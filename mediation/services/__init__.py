"""Domain commands. Each takes an explicit actor, owns its transaction and records its events."""
