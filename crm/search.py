"""Find contacts by the beginning of their e-mail, name or company name.

Search is by prefix, so every term can use an index: the unique e-mail index (with its
`varchar_pattern_ops` twin on PostgreSQL) and the upper-case name indexes of migration 0002. A
term with an `@` matches e-mail addresses only. Every word must match one of the fields.
"""

from django.db.models import Q, QuerySet

from crm.models import Company, Contact


def search_contacts(queryset: QuerySet[Contact], term: str) -> QuerySet[Contact]:
    """Return the contacts whose e-mail, first or last name, or company starts with each word."""
    for word in term.lower().split():
        if "@" in word:
            queryset = queryset.filter(email__startswith=word)
            continue
        companies = Company.objects.filter(name__istartswith=word).values("pk")
        queryset = queryset.filter(
            Q(email__startswith=word)
            | Q(last_name__istartswith=word)
            | Q(first_name__istartswith=word)
            | Q(company__in=companies)
        )
    return queryset
