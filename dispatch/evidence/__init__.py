"""Evidence: append-only, hash-chained loading records (weights, seals, photos, samples) per load."""
