"""The API routes, one module per domain; each route parses, calls one service, returns."""
