"""HTTP routers of the copilot service, one module per resource."""
