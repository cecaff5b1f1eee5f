"""The deterministic validator: checks a claim or charge against code sets and payer rules (see engine.py)."""
