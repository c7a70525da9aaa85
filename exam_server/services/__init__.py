"""Use cases that span aggregates. Routers call these; these call the domain libraries."""
