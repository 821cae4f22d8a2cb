"""Live events: `WS /api/ws` delivers each user's sync and mail events as they happen.

Events are published per user on the Store (`postwise.events.announce`) by whichever process
raised them; every API process subscribes once per connected user and fans out to that user's
sockets. The protocol is documented in docs/websocket.md.
"""
