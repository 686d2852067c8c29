"""The events API: each organization reads the events that concern it, cursor-paged, in
commit-safe order (`GET /events`), waiting for new ones if asked (long-poll). See docs/events.md."""
