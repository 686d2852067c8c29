"""The pages (gate board; later the tracking page and the job board) and their static assets.
Everything is served by the app itself: no CDN, so the pages work at a gate with no internet."""
