"""The drivers' phone API, mounted under /driver/v1 by dispatch.app. It calls dispatch services
and holds no SQL of its own."""

from driver_api.router import driver_router

__all__ = ["driver_router"]
