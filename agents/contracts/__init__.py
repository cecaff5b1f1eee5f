"""Contract intake: reading a contract's terms from prose, YAML and fee-schedule files, each term with its evidence."""
