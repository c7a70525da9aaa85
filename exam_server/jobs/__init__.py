"""Background jobs on dramatiq: a Redis broker in production, its in-process stub broker in the
embedded default. Both run the same actors through dramatiq's own Worker."""
