"""Segments, campaigns, messages and tracking events (built by the campaigns capability)."""
