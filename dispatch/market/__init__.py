"""The freight market: jobs, grabs, reverse auctions, market areas and settings, the live feed."""
