"""The copilot's own storage: events, and later review items, feedback, audit and flags."""
