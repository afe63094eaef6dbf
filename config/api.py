"""What every API view shares: staff-only permissions and cursor pagination."""

from rest_framework import pagination, permissions


class StaffModelPermissions(permissions.DjangoModelPermissions):
    """Staff users with the model's Django permissions, viewing included."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_staff) and super().has_permission(
            request, view
        )


class NewestFirstCursorPagination(pagination.CursorPagination):
    """Stable pages over large tables without counting them."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500
