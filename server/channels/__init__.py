"""The live layer: ``/ws`` endpoint, frame protocol, access rules, hub, brokers and the outbox relay.

Domain code never imports from here: it calls :func:`server.events.emit` inside its
transaction, and :class:`server.channels.part.LivePart` publishes after the commit.
Other layers may plug a per-reader renderer in with
:func:`server.channels.render.register_renderer`.
"""

from server.channels.render import Variant, register_renderer

__all__ = ["Variant", "register_renderer"]
