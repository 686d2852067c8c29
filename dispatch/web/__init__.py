"""The pages (the gate board, the tracking page, the carriers' job board) and their static assets.
Everything is served by the app itself: no CDN, so the pages work at a gate with no internet."""
