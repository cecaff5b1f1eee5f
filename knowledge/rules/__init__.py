"""Payer rules: NCCI edits, the Medicare fee schedule, LCD coverage rules, and payer policies."""
