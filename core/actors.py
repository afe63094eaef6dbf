"""Who did something: a member of staff, an anonymous visitor, or the system itself (None)."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

Actor = AbstractBaseUser | AnonymousUser | None
