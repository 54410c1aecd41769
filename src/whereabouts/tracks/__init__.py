"""tracks layer."""
