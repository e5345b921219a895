"""The HTTP layer of the API function: route plumbing, request schemas, middleware, OpenAPI, routes."""
