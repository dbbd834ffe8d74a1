"""Reads on the seed's tables: the admin's substring search, planned so that 1M rows cost about what 1k do.

A search is the whole term as one case-insensitive substring of some columns (`UPPER(col) LIKE UPPER('%term%')`,
Django's `icontains`), served by the pg_trgm GIN indexes of blog/search_schema.py; a number also finds that id.
The admin lists newest first (ORDER BY id DESC LIMIT 50), and left to itself the planner picks one of two plans
whose cost depends on where the matches are, not on how many rows the table has:

- walk the primary key backwards, testing every row: instant when matches are dense among the newest rows, but a
  term whose rows sit far from them (seed titles are numbered: "post 19") tests hundreds of thousands of rows;
- collect every match through the trigram index, then sort: cheap for a rare term, slow for a common one.

So `substring_search` first tests the NEWEST_PROBE newest rows only (a LIMIT subquery the planner cannot turn
into a walk over the whole table). A term that fills a page there is dense: the usual query (the walk) serves it.
Otherwise its ids come from one trigram-index scan; up to SEARCH_IDS_MAX of them are the result, so the count is
exact for free (no COUNT, no EXPLAIN) and the page is `id = ANY(ids)` in primary-key order.
"""

from dataclasses import dataclass

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connections
from django.db.models import Count, Lookup, Q, TextField, Value
from django.db.models.functions import Cast, StrIndex, Upper
from django.db.models.lookups import GreaterThan
from psycopg import sql

INT4_MAX = 2**31 - 1
NEWEST_PROBE = 5_000
SEARCH_IDS_MAX = 20_000


class InArray(Lookup):
    """`pk__in_array=ids`: `pk = ANY(…)` with one array parameter (`pk__in` would send 20,000 parameters).

    ids: a list of ints, or PostgreSQL's text form of an int array (`IdArray`, as `array_agg(id)::text` gave it:
    no Python work per id; adapting 11,000 ints one by one took 25 ms). The array goes in as one text parameter
    through an InitPlan (`(SELECT %s::bigint[])`), so the planner does not estimate each of its elements (11 ms of
    planning for 11,000 ids) and the primary key still serves the order and the LIMIT."""

    lookup_name = "in_array"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        text = value if isinstance(value, IdArray) else "{" + ",".join(str(int(item)) for item in value) + "}"
        return "%s", [str(text)]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(COALESCE((SELECT {rhs}::bigint[]), '{{}}'))", [*lhs_params, *rhs_params]


class IdArray(str):
    """An int array in PostgreSQL's text form, as the server sent it ("{3,1,2}")."""


@dataclass
class SearchResult:
    queryset: object
    count: int | None = None  # exact when known without a COUNT
    path: str = "filter"  # "newest" (dense), "ids" (trigram index) or "filter" (too many ids: the usual query)


def search_condition(fields, term, by_id=True):
    """`icontains` on each field, OR the id when the term is a number."""
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__icontains": term})
    if by_id and term.isdigit() and int(term) <= INT4_MAX:
        condition |= Q(pk=int(term))
    return condition


def exact_condition(fields, term):
    """The same substring test as `icontains`, as strpos: the trigram index never serves it (a recheck)."""
    condition = Q()
    for field in fields:
        condition |= Q(GreaterThan(StrIndex(Upper(field), Upper(Value(term))), 0))
    return condition


def _tests(columns, term):
    return sql.SQL(" OR ").join(sql.SQL("strpos(upper({}::text), upper({})) > 0").format(sql.Identifier(column),
                                                                                      sql.Literal(term))
                                for column in columns)


def matches_among_newest(model, fields, terms, limit=NEWEST_PROBE, using="default"):
    """For each of terms, how many of the `limit` newest rows contain it (strpos: LIKE's test, never indexed).

    The LIMIT subquery keeps the planner from testing the whole table (as `id IN (newest ids)` let it)."""
    pk = model._meta.pk.column
    columns = [model._meta.get_field(field).column for field in fields]
    counts = [sql.SQL("count(*) FILTER (WHERE {})").format(_tests(columns, term)) for term in terms]
    query = sql.SQL("SELECT {counts} FROM (SELECT {cols} FROM {table} ORDER BY {pk} DESC LIMIT {limit}) AS newest"
                    ).format(counts=sql.SQL(", ").join(counts), limit=sql.Literal(limit),
                             cols=sql.SQL(", ").join(map(sql.Identifier, dict.fromkeys([pk, *columns]))),
                             table=sql.Identifier(model._meta.db_table), pk=sql.Identifier(pk))
    with connections[using].cursor() as cursor:
        cursor.execute(query.as_string(cursor.connection).replace("%", "%%"))
        return dict(zip(terms, cursor.fetchone(), strict=True))


def substring_search(queryset, fields, term, *, page_size):
    """The rows of queryset whose `fields` contain term (any case), planned by where the matches are (above).

    A term of several words goes to the trigram index as its rarest word among the newest rows (fewest index
    entries to merge: a whole title's common trigrams cost 25 ms on 1M rows), the whole term rechecked."""
    matches = queryset.filter(search_condition(fields, term))
    words = [word for word in dict.fromkeys(term.split()) if len(word) >= 3 and word != term]
    newest = matches_among_newest(queryset.model, fields, [term, *words], NEWEST_PROBE, using=queryset.db)
    number = term.isdigit() and int(term) <= INT4_MAX
    if newest[term] + number >= page_size:
        return SearchResult(matches, path="newest")
    candidates = matches
    rarest = min(words, key=lambda word: (newest[word], -len(word)), default=None)
    if rarest is not None and newest[rarest] < page_size:  # a rare word: few rows, few index entries
        candidates = queryset.filter(search_condition(fields, rarest, by_id=False), exact_condition(fields, term))
    count, ids = matching_ids(candidates, SEARCH_IDS_MAX + 1)
    if count > SEARCH_IDS_MAX:
        return SearchResult(matches)
    return SearchResult(queryset.filter(pk__in_array=ids), count=count, path="ids")


def matching_ids(queryset, limit):
    """(how many, their ids as one IdArray) of at most `limit` rows of queryset, in one row from the server."""
    found = queryset.order_by().values("pk")[:limit].aggregate(  # a sliced queryset: Django aggregates over it
        count=Count("pk"), ids=Cast(ArrayAgg("pk", default=Value([])), TextField()))
    return found["count"], IdArray(found["ids"])
