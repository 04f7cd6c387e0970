"""The HTTP layer: request plumbing, authentication, error rendering and the API's routes."""
