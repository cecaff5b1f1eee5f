"""The sandbox's routers, one module per group of Crystal PM resources."""
