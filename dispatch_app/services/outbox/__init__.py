"""Customer messages: the outbox, its channels and the worker that sends them."""
