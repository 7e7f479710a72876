"""The HTTP layer: routes, auth, the error envelope and raw-path handling. No SQL, no rules."""
