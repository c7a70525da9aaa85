"""Proctoring over WebSocket: identity check, live events, flags, review.

Empty until the proctoring issue lands; the package exists so the layout and the import
contracts are in place from the start.
"""
