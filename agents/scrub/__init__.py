"""Claim scrubbing before submission: facts about a claim, payer-specific checks, concrete fixes."""
