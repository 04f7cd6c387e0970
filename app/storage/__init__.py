"""Where documents' bytes live, content-addressed by SHA-256."""
