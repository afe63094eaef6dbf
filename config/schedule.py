"""The one beat schedule: every periodic task of the project, in one place."""

from datetime import timedelta

from celery.schedules import crontab

from config.environment import env_int


def beat_schedule() -> dict[str, dict]:
    """Return Celery beat's schedule, the intervals read from the environment."""
    return {
        # Changes recorded as outbound events, handed out as webhook deliveries and art. 19 notices.
        "integrations-dispatch-events": {
            "task": "integrations.tasks.dispatch_events",
            "schedule": timedelta(seconds=env_int("WEBHOOK_DISPATCH_SECONDS", 5)),
        },
        "integrations-prune-deliveries-nightly": {
            "task": "integrations.tasks.prune_deliveries",
            "schedule": crontab(hour=3, minute=45),
        },
        # Webhook deliveries whose retry time has come.
        "integrations-deliver-due": {
            "task": "integrations.tasks.deliver_due",
            "schedule": timedelta(seconds=env_int("WEBHOOK_RETRY_POLL_SECONDS", 60)),
        },
        # Tasks the web could not hand to the broker (it was down): published again once it is back.
        "outbox-publish-pending": {
            "task": "config.tasks.publish_pending",
            "schedule": timedelta(seconds=env_int("OUTBOX_PUBLISH_EVERY", 60)),
        },
        "privacy-check-daily": {
            "task": "privacy.tasks.run_privacy_check",
            "schedule": crontab(hour=5, minute=0),
        },
        "privacy-purge-expired-nightly": {
            "task": "privacy.tasks.purge_expired",
            "schedule": crontab(hour=2, minute=30),
        },
        "privacy-request-digest-daily": {
            "task": "privacy.tasks.mail_request_digest",
            "schedule": crontab(hour=7, minute=30),
        },
        "privacy-expire-unverified-requests-hourly": {
            "task": "privacy.tasks.expire_unverified",
            "schedule": crontab(minute=15),
        },
        # Art. 14 notices to people found through indirect sources: every pending one, mornings.
        "privacy-indirect-notices-daily": {
            "task": "privacy.tasks.mail_indirect_notices",
            "schedule": crontab(hour=9, minute=0),
        },
        # Campaigns whose scheduled time has come start within the minute.
        "campaigns-start-scheduled-every-minute": {
            "task": "campaigns.tasks.start_scheduled_campaigns",
            "schedule": crontab(),
        },
        # A/B tests whose time is over send the winning subject to the rest of the audience.
        "campaigns-decide-ab-tests": {
            "task": "campaigns.tasks.decide_ab_tests",
            "schedule": crontab(minute="*/5"),
        },
        # Messages claimed by a worker that died go back to the queue; a stalled send is resumed.
        "campaigns-resume-stalled-sending": {
            "task": "campaigns.tasks.resume_stalled_sending",
            "schedule": crontab(minute="*/5"),
        },
        "crm-discard-unfinished-imports-nightly": {
            "task": "crm.tasks.discard_unfinished_imports",
            "schedule": crontab(hour=3, minute=15),
        },
        # Buffered opens and clicks, written as events every few seconds.
        "campaigns-flush-tracking": {
            "task": "campaigns.tracking_tasks.flush_tracking_hits",
            "schedule": timedelta(seconds=env_int("TRACKING_FLUSH_SECONDS", 5)),
        },
        # The bounce mailbox (BOUNCE_MAILBOX), when there is one.
        "campaigns-feed-bounce-mailbox": {
            "task": "campaigns.tasks.feed_bounce_mailbox",
            "schedule": timedelta(seconds=env_int("BOUNCE_MAILBOX_EVERY", 600)),
        },
    }
