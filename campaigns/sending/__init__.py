"""Sending a campaign: its states, one message per recipient, batches, retries and one copy each.

When sending starts, one `Message` per person of the audience is created in a single INSERT …
SELECT, each with an opaque random token, and the body's links become `TrackedLink` rows. Celery
tasks then send batches through Django's e-mail backend, one SMTP connection per batch. Just before
each batch the audience rules are applied again to its recipients: an opt-out, objection,
restriction, bounce or erasure after the start wins and the message is skipped.

Never two copies to one person (at-most-once), and nothing lost that was never tried:
1. a batch is claimed first (status SENDING, `claimed_at`) in its own committed transaction, so
   no other worker and no re-delivered task takes the same messages;
2. before messages are handed to the mail server, their `sent_at` is committed, for the next
   SENDING_HANDOVER_GROUP messages at a time: from then on none of them is handed over again by
   anyone, whatever happens;
3. after the server accepts one, it is marked SENT (committed with the next group's mark, and
   before the rate limiter sleeps).
If a worker dies, its claimed messages without `sent_at` were never handed over and go back to the
queue when their claim expires (`resume_stalled_sending`). Those of its current group (`sent_at`
set, not SENT) have an unknown outcome: each is marked failed with that reason and never sent
again. This is the trade-off chosen, at-most-once: a dead worker may lose up to one group (one
message with a group of 1, the exact setting; the default of 10 commits ten times less often),
and never duplicates one. A server that answers with an error code has not taken
the message: 4xx is retried with backoff, 5xx fails. A connection lost during a hand-over is an
unknown outcome too, never retried.

Modules:
- `states`: the campaign's states and the changes between them (`schedule_campaign`,
  `unschedule_campaign`, `cancel_campaign`, `finish_if_done`), and the checks they share
  (`require_transition`, `check_campaign_content`, `check_every_version`);
- `starting`: starting to send (`start_sending`, `request_start`, `start_due_campaigns`) and the
  messages it creates (`create_messages`, each in its reader's language; `campaign_links`);
- `batches`: one batch and what follows it (`run_batch`, `send_batch`, `claim_batch`,
  `queue_batches`, `requeue_messages`, `retry_delay`);
- `handover`: handing a claimed batch to the mail server (`BatchSender`, `BatchOutcome`,
  `SendingInterrupted`);
- `mail`: the e-mail itself (`build_email`, `from_address`), the preview (`preview`) and test
  sends (`send_test`);
- `ab_test`: the A/B test of two subjects (`split_for_test`, `results`, `decide`,
  `decide_due_tests`);
- `stalls`: what dead workers left behind (`resume_stalled_sending`).
"""
