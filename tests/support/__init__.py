"""Helpers shared by tests: running servers on loopback, synthetic fixtures."""
