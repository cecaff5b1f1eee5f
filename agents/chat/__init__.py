"""The copilot chat's engines: the offline intent router with templated answers, and the LLM tool caller."""
