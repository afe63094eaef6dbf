"""Deliveries, bounces and complaints: provider webhooks, bounce mailboxes, one way to record.

`apply_feedback(*, feedback, channel)` records every event (see `recording`); `webhooks` reads
providers' signed requests through django-anymail; `reports` and `classification` read raw
bounce and complaint mail; `mailboxes` feeds an mbox, a Maildir or an IMAP mailbox.
"""

from campaigns.bounces.recording import DEAD, POLICY, SOFT, Feedback, apply_feedback

__all__ = ["DEAD", "POLICY", "SOFT", "Feedback", "apply_feedback"]
