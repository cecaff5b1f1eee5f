"""CLI command groups, one module each; imported by api/cli.py, so keep their top-level imports light."""
