"""Parent–teacher messaging: conversations, quiet hours, office routing, reports and suspension.

``conversations`` (membership and reading), ``delivery`` (sending, holding and
releasing), ``office`` (the office inbox and the topic table in force),
``quiet_hours`` and ``office_routing`` (pure rules), ``reports``,
``suspension``, ``shapes`` (how it all looks on the wire) and ``writes`` (write
transactions that survive SQLite). No HTTP lives here.
"""
