"""One migration per schema version, applied in order."""
