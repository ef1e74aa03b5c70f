"""Reaching people when the page is closed: Web Push and email, fed by the notification outbox.

``kinds`` says which live events notify anyone (``emit`` writes those to the outbox in the
deed's own transaction); ``audience`` decides who, with the access rules REST uses;
``fanout`` writes one delivery per device (and per instant email); ``render`` writes what
they read; ``webpush`` and ``vapid`` deliver pushes; ``worker`` runs it all in every process.
Email: ``mail`` (SMTP, unsubscribe links), ``emails`` (the texts), ``instant``, ``digest``
(18:00 school time), ``invites``. ``subscriptions`` and ``preferences`` back the API.
"""
