"""Read-only use cases: each opens one read transaction and changes nothing."""
