"""SAM 2 models: building, loading and the seeded random-init models used where weights are unavailable."""
