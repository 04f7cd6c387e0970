"""Letters the service issues: the intake receipt and the supplement notice (PDF)."""
