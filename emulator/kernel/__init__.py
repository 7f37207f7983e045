"""The kernel: what every API family runs on (clock, scheduler, delivery, store, persistence,
events, ids, errors, the wire-text catalogue, HTTP plumbing). It imports no family."""
