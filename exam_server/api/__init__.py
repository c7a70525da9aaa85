"""JSON API routers (thin: parse, authorise, call a service, return a schema)."""
