"""The simulator: simulated carriers, drivers, gate staff and buyers as clients of the public API."""
