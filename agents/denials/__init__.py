"""Denial triage: what each denied remittance line is, why, what to do next, and which work queue gets it."""
