"""Use cases, one module per area. Each joins domain rules to the adapters; routes call exactly one."""
