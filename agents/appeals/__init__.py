"""Appeal letters: clinical facts from the note with evidence, an offline template engine, an LLM drafter, rendering."""
