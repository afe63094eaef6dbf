import pytest
from rest_framework.authtoken.models import Token


@pytest.fixture
def staff_token(admin_user) -> str:
    """An API token of a superuser (staff with every model permission)."""
    return Token.objects.create(user=admin_user).key


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Start every test with empty rate-limit counters and cached lookups."""
    from django.core.cache import cache

    cache.clear()
