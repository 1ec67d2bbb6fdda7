"""The HTTP API (FastAPI, /api/v1): routers per resource, auth dependencies, response schemas."""
