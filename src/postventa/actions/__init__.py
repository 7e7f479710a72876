"""Every state change, one ``do_*`` function each.

Each action checks its input first (``rules``), then opens and owns one write transaction, so
the whole unit of work reads in one function. Nothing is committed unless everything succeeded.
"""
