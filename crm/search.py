"""Find contacts by the beginning of their e-mail, name or company name.

Search is by prefix, so every term can use an index: the unique e-mail index (which compares
bytes on PostgreSQL, migration 0026, so it serves prefixes) and the upper-case name indexes of
migration 0002. A
term with an `@` matches e-mail addresses only. Every word must match one of the fields, or the
whole phrase must start a last name or a company name ("de vries", "tulip data").

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
    """Return the contacts matching every word of the term, or a name starting with all of it."""
    words = term.lower().split()
    if not words:
        return queryset
    each_word = Q()
    for word in words:
        each_word &= _word_matches(word)
    if len(words) == 1 or any("@" in word for word in words):
        return queryset.filter(each_word)
    # "de vries" or "tulip data": a last name or company name that starts with the whole phrase.
    phrase = " ".join(words)
    whole = Q(last_name__istartswith=phrase) | Q(company__in=_companies_starting_with(phrase))
    return queryset.filter(each_word | whole)


def _word_matches(word: str) -> Q:
    """Match one word against the e-mail, or the names and company name too when not an address."""
    if "@" in word:
        return Q(email__startswith=word)
    # Runs its own small query now, to find the companies the word matches.
    return (
        Q(email__startswith=word)
        | Q(last_name__istartswith=word)
        | Q(first_name__istartswith=word)
        | Q(company__in=_companies_starting_with(word))
    )


def _companies_starting_with(word: str) -> list[int] | QuerySet[Company]:
    """Return the ids of the companies whose name starts with the word; a subquery when many do."""
    companies = Company.objects.filter(name__istartswith=word).order_by()
    ids = list(companies.values_list("pk", flat=True)[: COMPANY_IDS_LIMIT + 1])
    return ids if len(ids) <= COMPANY_IDS_LIMIT else companies.values("pk")
