"""On-premises translation: engines, cache, job queue and workers, reader views, Babel helpers.

Nothing here talks to a third party: engines run on the school's own server
(Argos Translate's CTranslate2 models, Debian's Apertium). The modules:

- ``engine``: the ``Engine`` protocol every engine implements;
- ``argos``, ``apertium``: the two engines; ``sentences``: the sentence splitter argos uses;
- ``registry``: engines in the order of ``HOMEROOM_TRANSLATION_ENGINES``, first one with a pair wins;
- ``cache``: translations by (SHA-256 of the text, source, target), identical concurrent work coalesced;
- ``queue``: in-process job tasks, or a Redis stream with a consumer group for worker processes;
- ``pipeline``: one job per needed language when a post or message is committed;
- ``view``: what a reader sees (REST and live), ``locale``: dates and times in the reader's locale;
- ``part``: the server part that wires it all at start-up; ``commands``: ``translation list|install``
  and ``worker``.
"""
