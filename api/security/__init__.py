"""Who may do what: roles and permissions, passwords, sessions, API keys, lockout and the route guards."""
