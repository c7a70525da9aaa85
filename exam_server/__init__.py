"""The composition root: app factory, settings, auth, routers, worker, CLI and pages."""
