"""LangGraph workflows, one module per graph (charge_coding, ...), each built by a factory from its ports."""
