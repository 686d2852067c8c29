"""The drivers' phone API, mounted under /driver/v1 by dispatch.app (with the phone's pairing, and
Traccar Client's positions at /tracker/osmand). It calls dispatch services and holds no SQL of its own."""

from driver_api.pairing import pairing_router
from driver_api.positions import positions_fast_path
from driver_api.router import driver_router
from driver_api.traccar import tracker_router

__all__ = ["driver_router", "pairing_router", "positions_fast_path", "tracker_router"]
