"""Awards withdrawn after the fact: the carrier gives the job back, or the poster cancels the award."""
