"""The operator API under ``/_postventa/``: how order-side state gets into Postventa.

A marketplace back office or a test script creates users, applications, tokens, orders and packs,
changes their state, and (in sandbox mode) moves the clock. It authenticates with the operator
key (``X-Postventa-Operator-Key``), never with a user token. Each module holds the ``do_*``
functions of one subject; ``routes`` is the thin HTTP layer over them.
"""
