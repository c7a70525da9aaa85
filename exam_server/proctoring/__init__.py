"""The app's side of proctoring: WebSocket endpoints, the fan-out bus, evidence storage, jobs.

Domain logic (protocol, rules, risk score, face analysis) is in the ``proctoring`` library.
"""
