"""Campaign audiences at scale: breakdown, count, live segment count, message INSERT (see
bench/campaigns_send.py)."""

from bench.campaigns_send import run_audience as run

__all__ = ["run"]
