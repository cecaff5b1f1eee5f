"""Remittance files: reading X12 835 files from disk into Remittance models."""
