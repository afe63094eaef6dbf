"""Receivers for Django's authentication signals: each calls the audit function, nothing more."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from core.audit import record_login
from privacy.staff.login_lockout import clear_account_failures, record_failed_login
from privacy.staff.two_factor import requires_two_factor


@receiver(user_logged_in, dispatch_uid="privacy.staff.signals.login")
def audit_login(sender, request, user, **kwargs) -> None:
    record_login(user=user, succeeded=True)
    # With a second factor still to pass, the password alone must not wipe the count of wrong
    # codes: the failures are forgotten once the code is right (privacy.staff.two_factor).
    if not requires_two_factor(user):
        clear_account_failures(username=user.get_username(), request=request)


@receiver(user_login_failed, dispatch_uid="privacy.staff.signals.login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = credentials.get(get_user_model().USERNAME_FIELD, "")
    record_failed_login(username=username, request=request)
