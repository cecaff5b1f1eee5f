"""Gold datasets for evaluations (hand-written JSONL files read by the eval suites)."""
