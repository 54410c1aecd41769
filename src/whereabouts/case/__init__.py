"""case layer."""
