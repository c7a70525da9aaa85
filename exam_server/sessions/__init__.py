"""Sign-in protection and session ending: bounded password hashing, login rate limits and the
access-token revocation store (each an injected boundary with an in-process and a Redis form)."""
