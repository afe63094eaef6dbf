"""`field__any_of=[…]`: a list of values as one array parameter on PostgreSQL.

Django's `__in` writes one placeholder per value: with the thousands of ids of a retention or
erasure batch PostgreSQL parses and plans a statement ten times slower than `= ANY(%s)` with one
array. Other databases get the same `IN (…)` as `__in`.
"""

from django.core.exceptions import EmptyResultSet
from django.db import models
from django.db.models import Lookup


class AnyOf(Lookup):
    """Match any value of a list; the list goes to PostgreSQL as one array parameter."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> list:
        """Prepare each value as the field would (ids as ints, instances as their keys)."""
        field = self.lhs.output_field
        return [field.get_prep_value(getattr(value, "pk", value)) for value in self.rhs]

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        """Write `column IN (%s, …)`, as `__in` would; an empty list selects nothing."""
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if not self.rhs:
            raise EmptyResultSet
        placeholders = ", ".join(["%s"] * len(self.rhs))
        return f"{lhs} IN ({placeholders})", [*lhs_params, *self.rhs]

    def as_postgresql(self, compiler, connection) -> tuple[str, list]:
        """Write `column = ANY(%s)` with the whole list as one array."""
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if not self.rhs:
            raise EmptyResultSet
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


# Relations keep lookups of their own: register on both, so `contact__any_of` works too.
models.Field.register_lookup(AnyOf)
models.ForeignObject.register_lookup(AnyOf)
