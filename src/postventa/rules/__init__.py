"""Pure rules of the reference: no HTTP, no SQL, no clock of their own.

Each module owns one rule: ``paging`` (limit/offset of E1), ``text`` (what a message may contain),
``unread`` (which roles an unread query covers), ``send`` (who may write to whom).
"""
