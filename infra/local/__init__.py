"""The local stack: what `make dev` runs (embedded DynamoDB, the WeChat stand-in, the demo seed, the API on
Werkzeug, the scheduler on a timer, the outbox stream) and what the tests start of it."""
