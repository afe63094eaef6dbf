"""Sending 100,000 messages with two workers to a local SMTP sink (see bench/campaigns_send.py)."""

from bench.campaigns_send import run_sending as run

__all__ = ["run"]
