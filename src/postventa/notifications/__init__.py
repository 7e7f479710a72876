"""Notifications (§13): a transactional outbox and an at-least-once webhook dispatcher.

* ``outbox``: actions write notification rows inside their own transaction;
* ``dispatcher``: claims due rows (SKIP LOCKED / lease), POSTs them, retries with backoff, moves
  the ones that never got a 200 to the missed feed;
* ``signing``: the X-Postventa-* headers and the per-application secret;
* ``feeds``: what ``GET /missed_feeds`` and the operator inspector read;
* ``health``: the optional §13.4 fall-back (topics deactivated after repeated failures);
* ``receiver``: ``postventa receive``, a receiver that prints and verifies what arrives.
"""
