"""Reaching people when the page is closed: Web Push and email, fed by the notification outbox.

``kinds`` says which live events notify anyone (``emit`` writes those to the outbox in the
deed's own transaction); ``audience`` decides who, with the access rules REST uses; ``render``
writes what they read; ``webpush`` and ``vapid`` deliver it; ``worker`` runs it all.
"""
