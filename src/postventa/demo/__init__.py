"""Deterministic demo data: the same users, tokens, packs and message ids on every machine.

``postventa demo --json`` prints the contract described in the README; other tools are built on
its keys, so keys are only ever added, never renamed.
"""
