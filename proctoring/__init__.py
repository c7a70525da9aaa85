"""Proctoring over WebSocket: identity check, live events, flags, review (domain logic).

* :mod:`proctoring.protocol`: the versioned WebSocket messages (pydantic) and close codes.
* :mod:`proctoring.session`: the state machine of one proctoring session.
* :mod:`proctoring.bus`: the fan-out interface and channel names (implementations in the app).

The endpoints, the Redis bus and the pages live in ``exam_server``; this package never imports it.
"""
