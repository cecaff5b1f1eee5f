"""Pure billing domain: pydantic models and computations on them (no I/O, no LLM)."""
