"""Receivers for Django's authentication signals: each calls the audit function, nothing more."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from privacy.audit import record_login, record_unknown_login_failure


@receiver(user_logged_in, dispatch_uid="privacy.audit.login")
def audit_login(sender, request, user, **kwargs) -> None:
    record_login(user=user, succeeded=True)


@receiver(user_login_failed, dispatch_uid="privacy.audit.login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    model = get_user_model()
    user = model._default_manager.filter(
        **{model.USERNAME_FIELD: credentials.get(model.USERNAME_FIELD, "")}
    ).first()
    if user is None:
        record_unknown_login_failure()
    else:
        record_login(user=user, succeeded=False)
