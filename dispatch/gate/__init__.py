"""The gate: slot calendars and bookings, check-in, the queue and the docks."""
