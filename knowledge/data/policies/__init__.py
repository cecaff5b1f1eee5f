"""Payer policy documents (Markdown with YAML front matter); loaded by knowledge.rules.policies."""
