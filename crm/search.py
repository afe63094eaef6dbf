"""Find contacts by the beginning of their e-mail, name or company name.

Search is by prefix, so every term can use an index: the unique e-mail index (with its
`varchar_pattern_ops` twin on PostgreSQL) and the upper-case name indexes of migration 0002. A
term with an `@` matches e-mail addresses only. Every word must match one of the fields.

The companies a word matches are looked up first and, when they are few, put into the query as
literal ids: PostgreSQL cannot combine `company_id IN (subquery)` inside an OR with the other
indexes and reads every contact instead (a third of a second at a million contacts, see
docs/performance.md), while a literal list joins the other indexes in one bitmap.
"""

from django.db.models import Q, QuerySet

from crm.models import Company, Contact

# Past this many companies the word is so broad that reading the table is the right plan anyway;
# the bound also keeps the statement well under SQLite's limit on query parameters.
COMPANY_IDS_LIMIT = 200


def search_contacts(queryset: QuerySet[Contact], term: str) -> QuerySet[Contact]:
    """Return the contacts whose e-mail, first or last name, or company starts with each word."""
    for word in term.lower().split():
        if "@" in word:
            queryset = queryset.filter(email__startswith=word)
            continue
        # Runs its own small query now, to find the companies the word matches.
        companies = _companies_starting_with(word)
        queryset = queryset.filter(
            Q(email__startswith=word)
            | Q(last_name__istartswith=word)
            | Q(first_name__istartswith=word)
            | Q(company__in=companies)
        )
    return queryset


def _companies_starting_with(word: str) -> list[int] | QuerySet[Company]:
    """Return the ids of the companies whose name starts with the word; a subquery when many do."""
    companies = Company.objects.filter(name__istartswith=word).order_by()
    ids = list(companies.values_list("pk", flat=True)[: COMPANY_IDS_LIMIT + 1])
    return ids if len(ids) <= COMPANY_IDS_LIMIT else companies.values("pk")
