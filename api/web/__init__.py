"""The web UI: server-rendered pages (Jinja2, plain JS) for the review queue, item pages, dashboard, admin."""
