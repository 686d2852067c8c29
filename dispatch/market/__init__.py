"""The freight market: jobs, grabs, reverse auctions, pickup authorizations, the live feed."""
