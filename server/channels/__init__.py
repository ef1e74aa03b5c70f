"""The live layer: ``/ws`` endpoint, frame protocol, access rules, hub, brokers and the outbox relay.

Domain code never imports from here: it calls :func:`server.events.emit` inside its
transaction, and :class:`server.channels.part.LivePart` publishes after the commit.
The app hands the live layer its per-reader renderers when it builds it
(:class:`server.channels.part.LivePart`).
"""
