"""Pure rules of the reference: no HTTP, no SQL, no clock of their own ("now" is an argument).

One module per rule, each with the reference section it implements:

* ``paging`` — ``limit``/``offset`` of E1 (§3.2).
* ``text`` — what a message may contain: charset and length (§6.1).
* ``send`` — who may send what to whom, in the validation order of §20.
* ``unread`` — which roles an unread query covers (§8.1).
* ``blocking`` — the conversation's status and substatus, one precedence-ordered table (§9).
* ``moderation`` — the eight rejection reasons and their precedence (§10).
* ``action_guide`` — options, templates, caps and excepted cases of E8–E10 (§11).
"""
