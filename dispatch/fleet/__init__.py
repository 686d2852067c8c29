"""Fleet: a carrier's vehicles and its drivers' profiles."""
