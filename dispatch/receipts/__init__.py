"""Receipts: the consignee's proof of delivery, which ends a load's tracking (rules in
dispatch/tracking/README.md)."""
