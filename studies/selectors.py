"""Every read of studies: the search that the API, the export and the web pages share."""

import re
from collections import Counter
from collections.abc import Collection, Iterable
from datetime import date
from itertools import islice, repeat
from typing import Any

from django.db import connection
from django.db.models import F, Q, QuerySet, TextField
from django.db.models.functions import Concat

from core import rawsql
from core.cache import cached, remember, stored, stored_in_sql
from core.dates import day_after, day_start
from core.errors import NotFound
from core.search import backends, plan, query
from core.search.backends import TextIndex
from core.search.counts import count_caseless
from core.search.spec import Filters, Hints
from core.text import codepoint_order
from studies import sqlite_search
from studies.models import LetteredName, NameReading, Study

TEXT_SORT_FIELDS = {"patient_name", "exam_status", "exam_item", "exam_id"}

# The characters of the three searched text fields, as indexed by the GIN index of migration
# 0006 (the expression must stay identical to be usable); see core.search.backends.
TEXT_CHARS = (
    "string_to_array(upper(coalesce(patient_name, '') || coalesce(exam_item, '') "
    "|| coalesce(exam_description, '')) COLLATE \"C\", NULL)"
)


# The text indexes of those fields: PostgreSQL's character index, SQLite's FTS5 trigram
# index (studies.sqlite_search); the pinyin of the patients' names has a trigram index of its
# own on SQLite.
TEXT_INDEX = TextIndex(
    chars=TEXT_CHARS, fts_table=sqlite_search.FTS_TABLE, terms_table=sqlite_search.TERMS_TABLE
)
PINYIN_INDEX = TextIndex(fts_table=sqlite_search.PINYIN_FTS_TABLE)

# The text fields a term is searched in (with the identifiers, matched whole).
TEXT_FIELDS = ("patient_name", "exam_description", "exam_item")
# Those but the patient's name (a pinyin total sums the names apart: ``_pinyin_total``).
UNNAMED_TEXT_FIELDS = tuple(field for field in TEXT_FIELDS if field != "patient_name")

# The name readings (NameReading) of a data version are complete once the warm-up has stored
# this key under it (studies.services.refresh_name_readings).
READINGS_KEY = "readings"


def _text_match(q: str, lookup: str, fields: tuple[str, ...] = TEXT_FIELDS) -> Q:
    return Q.create([(f"{field}__{lookup}", q) for field in fields], connector=Q.OR)


def _identifier_match(term: str) -> Q:
    """Studies whose identifier is ``term`` whole, as typed or upper/lower-cased."""
    ids = {term, term.upper(), term.lower()}
    return Q(exam_id__in=ids) | Q(medical_record_no__in=ids) | Q(application_order_no__in=ids)


def study_keys_by_patient_name(*, name: str) -> QuerySet[Study]:
    """The keys of the studies whose patient_name holds ``name`` without letter case (the
    report search's ``patient_name``), found through the search's text indexes: PostgreSQL's
    trigram index on UPPER(patient_name) for three characters or more, its character index
    of the three text fields for one or two (the candidates are then checked against
    patient_name alone), SQLite's trigram index. The rows are those of a plain LIKE."""
    backend = backends.current()
    short = backend.short_term_index(name)
    # No UPPER() for a term without case where the trigram index is not used (as study_list).
    lookup = "contains" if short and query.is_caseless(name) else "icontains"
    match = Q(**{f"patient_name__{lookup}": name})
    if (candidates := backend.text_candidates(name, TEXT_INDEX)) is not None:
        match = candidates & match
    return Study.objects.filter(match).values("pk")


def _term_match(term: str, text_index: bool, *, in_texts: bool = True) -> Q:
    """Studies that hold ``term`` in a text field (a substring, any letter case) or as a whole
    identifier: the locked contract's match of ``q``. ``in_texts=False``: the identifiers
    alone, for a term the warm-up's counts show is in no text (``_in_no_text``)."""
    # Identifiers match whole values; free text matches a substring. Django escapes % and _
    # in icontains, so they are taken literally.
    if not in_texts:
        return _identifier_match(term)
    backend = backends.current()
    short = backend.short_term_index(term)
    # The trigram indexes serve the UPPER() form only; where none is used (a short term,
    # a walk of the date index) a term without case is matched without it (same rows).
    lookup = "contains" if (short or not text_index) and query.is_caseless(term) else "icontains"
    text = _text_match(term, lookup)
    if text_index and (candidates := backend.text_candidates(term, TEXT_INDEX)) is not None:
        text = candidates if backend.candidates_are_exact(term) else candidates & text
    return text | _identifier_match(term)


def pinyin_term(term: str) -> str | None:
    """The pinyin a term is also looked for as (``Zhang Wei`` -> ``zhangwei``): a term of ASCII
    letters and spaces, at least two letters; None for any other term."""
    letters = "".join(term.split())
    if len(letters) < 2 or not (letters.isascii() and letters.isalpha()):
        return None
    return letters.lower()


def _pinyin_match(term: str, text_index: bool) -> Q | None:
    """Studies whose patient's name is read ``term`` (studies.pinyin): its pinyin holds the
    term (three letters or more: through the pinyin's trigram index), or its initials are the
    term (``zw``: through their B-tree). None for a term that is not pinyin."""
    letters = pinyin_term(term)
    if letters is None:
        return None
    candidates = None
    if text_index and len(letters) >= query.TRIGRAM:
        candidates = backends.current().text_candidates(letters, PINYIN_INDEX)
    return _read_as(letters, "patient_name_pinyin", "patient_name_initials", candidates)


def _read_as(letters: str, pinyin: str, initials: str, candidates: Q | None = None) -> Q:
    """Rows whose reading (the fields ``pinyin`` and ``initials``) is ``letters``: the one
    rule of a pinyin match (``_readings_total`` asks it of the name readings in SQL)."""
    by_initials = Q(**{initials: letters})
    if len(letters) < query.TRIGRAM:
        return by_initials
    full = Q(**{f"{pinyin}__contains": letters})
    if candidates is not None:
        full = candidates & full
    return full | by_initials


# A term of more words is matched whole only: each word adds a condition per branch of the
# narrowest word, and planning a few hundred conditions costs more than the search.
MAX_WORDS = 8


def _several_words(q: str) -> list[str] | None:
    """The words of ``q`` that a search matches each by itself (``_search_match``), or None
    for a term matched whole only."""
    words = q.split()
    # Words are for a name with an item (``朱辉斌 头颅``, ``zhb 胸部``): a term all in Latin
    # letters is a name typed with spaces, found whole and as pinyin (``zhang wei``), and its
    # words alone would find far more (``feng`` and ``ting`` in any order, in any field). A word
    # of one Latin letter or digit (``li n``) narrows nothing: every row holding an N.
    if (
        not 2 <= len(words) <= MAX_WORDS
        or q.isascii()
        or any(len(w) == 1 and w.isascii() for w in words)
    ):
        return None
    return words


def _search_match(
    q: str, text_index: bool, narrowest: str | None = None, unindexed: Collection[str] = ()
) -> Q:
    """The studies a search for ``q`` finds: the contract's match of the whole term, or its
    pinyin, or, for several words, every word by those same rules (``朱辉斌 头颅``: the
    patient's head studies). ``narrowest`` and ``unindexed``: ``_word_hints``."""
    match = _term_or_pinyin(q, text_index)
    words = _several_words(q)
    if words is None:
        return match
    # Every word, written as "one of the narrowest word's indexed conditions, and every other
    # word": each branch of the OR then starts from an index (SQLite reads the whole table
    # for an AND of ORs; PostgreSQL combines the bitmaps either way).
    driver = narrowest if narrowest in words else max(words, key=_selectivity)
    rest = list(words)
    rest.remove(driver)
    others = Q.create(
        [_term_or_pinyin(w, text_index and w not in unindexed) for w in rest], connector=Q.AND
    )
    for branch in _disjuncts(_term_or_pinyin(driver, text_index)):
        match |= branch & others
    return match


# Reading a row to recheck a match costs about as much as this many entries of the character
# index (EXPLAIN ANALYZE at a million studies: 2.3 µs a row rechecked, 55 ns an entry read).
ROW_COST = 45
# The studies holding a word of two characters or more, as a share of those holding its
# rarest character: about 1 % for a name (杜旭 126 of 9,717, 刘浩明 8 of 13,683).
WORD_SHARE = 0.01


def _word_hints(q: str, version: int) -> dict[str, Any]:
    """``Hints``' narrowest word of a term of several words and the words better rechecked on
    its rows than found through the character index, from the warm-up's character counts:
    ``刘浩明 头颅`` reads a few rows of that name instead of the 224,852 entries of 头 and 颅
    (13 ms). Nothing where a word has letters (no count bounds it) or the counts are not
    current."""
    words = _several_words(q)
    counts = stored("studies", "characters", version=version) if words else None
    if counts is None or not all(query.is_caseless(w) for w in words):
        return {}

    def rows(word: str) -> float:
        rarest = min(counts.get(c, 0) for c in word)
        return rarest if len(word) == 1 else rarest * WORD_SHARE

    narrowest = min(words, key=rows)
    unindexed = frozenset(
        w
        for w in words
        if w != narrowest
        and backends.current().short_term_index(w)
        and sum(counts.get(c, 0) for c in set(w)) > ROW_COST * rows(narrowest)
    )
    return {"narrowest_word": narrowest, "unindexed_words": unindexed}


def _selectivity(word: str) -> int:
    # A Chinese character narrows a search about as much as a pinyin syllable does.
    return sum(1 if char.isascii() else 3 for char in word)


def _disjuncts(condition: Q) -> list[Q]:
    """The branches of an OR, flattened (a condition that is no OR is its own branch)."""
    if condition.connector != Q.OR or condition.negated:
        return [condition]
    branches: list[Q] = []
    for child in condition.children:
        branches.extend(_disjuncts(child) if isinstance(child, Q) else [Q(child)])
    return branches


def _term_or_pinyin(term: str, text_index: bool, *, in_texts: bool = True) -> Q:
    match = _term_match(term, text_index, in_texts=in_texts)
    pinyin = _pinyin_match(term, text_index)
    return match if pinyin is None else match | pinyin


def study_list(
    *,
    q: str | None = None,
    exam_status: str | None = None,
    exam_source: str | None = None,
    exam_item: str | None = None,
    equipment_type: str | None = None,
    patient_gender: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    sort: str = "-order_datetime",
    text_index: bool = True,
    in_texts: bool = True,
    narrowest_word: str | None = None,
    unindexed_words: Collection[str] = (),
) -> QuerySet[Study]:
    """Studies matching the filters, in a stable order (ties broken by exam_id).

    ``text_index=False`` leaves out the clauses that find candidate rows through a text index
    (PostgreSQL's character index for 1–2 character terms, SQLite's trigram indexes); the
    matches are the same. ``in_texts=False`` leaves out the match of a one-word ``q`` in the
    text fields, for a term the warm-up's counts show is in none (the same matches again).
    ``narrowest_word`` and ``unindexed_words``: how to find the words of a term of several
    (``Hints``; the same matches).
    """
    qs = Study.objects.all()
    q = (q or "").strip()
    if q:
        match = (
            _search_match(q, text_index, narrowest_word, unindexed_words)
            if in_texts
            else _term_or_pinyin(q, text_index, in_texts=False)
        )
        qs = qs.filter(match)
    exact = {
        "exam_status": exam_status,
        "exam_source": exam_source,
        "exam_item": exam_item,
        "equipment_type": equipment_type,
        "patient_gender": patient_gender,
    }
    qs = qs.filter(**{field: value for field, value in exact.items() if value})
    # A bound past the edge of the calendar (0001-01-01 east of UTC, 9999-12-31) is none.
    if date_from and (start := day_start(date_from)) is not None:
        qs = qs.filter(order_datetime__gte=start)
    if date_to and (end := day_after(date_to)) is not None:
        qs = qs.filter(order_datetime__lt=end)
    return qs.order_by(*study_ordering(sort))


def study_ordering(sort: str, *, filter_first: bool = False) -> list:
    """The ORDER BY of a sort parameter; ``filter_first`` hides the date index from the planner."""
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    if field in TEXT_SORT_FIELDS:
        primary = codepoint_order(field, descending=descending)
    elif field == "order_datetime" and filter_first:
        primary = plan.unindexed_order(field, descending=descending)
    elif Study._meta.get_field(field).null:
        # NULLs last in both directions, the same on PostgreSQL and SQLite.
        primary = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    else:
        # A NOT NULL column gets no NULLS clause: "DESC NULLS LAST" would not match the
        # (order_datetime DESC) index, and PostgreSQL would sort the whole table instead.
        primary = F(field).desc() if descending else F(field).asc()
    if field == "exam_id":
        return [primary]
    return [primary, codepoint_order("exam_id")]


def study_get(*, exam_id: str) -> Study:
    # exam_id is unique; plain SQL because this lookup is the most frequent call of all.
    found = rawsql.fetch_by(Study, "exam_id", exam_id)
    if not found:
        raise NotFound("Study not found")
    return found[0]


def _distinct(field: str) -> list[str]:
    values = backends.current().distinct_values(Study, field)
    # Python's sort is code point order, whatever the database's collation.
    return sorted(values)


def _filter_options() -> dict[str, list[str]]:
    return {
        "exam_statuses": _distinct("exam_status"),
        "exam_sources": _distinct("exam_source"),
        "exam_items": _distinct("exam_item"),
        "equipment_types": _distinct("equipment_type"),
    }


def study_filter_options(*, version: int | None = None) -> dict[str, list[str]]:
    """Distinct non-empty values over all studies, sorted by code point."""
    return cached("studies", "options", _filter_options, version=version)


# A run of Latin letters, where a two-letter term can be.
_LATIN_RUN = re.compile("[A-Z]{2,}")


def _run_pairs(run: str) -> frozenset[str]:
    return frozenset(run[i : i + 2] for i in range(len(run) - 1))


def count_characters(texts: Iterable[str]) -> dict[str, int]:
    """How many of ``texts`` (each the searched fields of one study) hold each character
    without letter case, and, at most, each pair of Latin letters (upper-cased); see
    ``study_character_counts``."""
    characters: Counter[str] = Counter()
    runs: Counter[str] = Counter()
    texts = iter(texts)
    while chunk := list(islice(texts, 20_000)):
        characters.update(count_caseless(zip(chunk, repeat(1))))
        # Python upper-cases more than the databases do (ß -> SS), so these runs hold every
        # pair a database's case-insensitive LIKE finds. One pass over the chunk's texts
        # joined (a run never crosses the line between two): a pass per text cost more than
        # the characters' count.
        runs.update(_LATIN_RUN.findall("\n".join(chunk).upper()))
    pairs: Counter[str] = Counter()
    for run, times in runs.items():
        for pair in _run_pairs(run):
            pairs[pair] += times
    return {**characters, **pairs}


def _character_counts() -> dict[str, int]:
    texts = Study.objects.annotate(text=Concat(*TEXT_FIELDS, output_field=TextField())).values_list(
        "text", flat=True
    )
    return count_characters(texts.iterator(chunk_size=20_000))


def prepare_character_counts(counts: dict[str, int], *, version: int) -> None:
    """Store the character counts of data version ``version``, counted by the import that
    wrote it from the rows it read (ingest.services), for the warm-up to find."""
    remember("studies", "characters", counts, version=version)


def study_character_counts(*, version: int) -> dict[str, int]:
    """How many studies hold each character without letter case (a Chinese character, a
    digit) in a searched text field, and each pair of Latin letters, computed by the warm-up
    after an import.

    The total of a one-character term (a surname) is then a lookup instead of a count over
    its index (14,026 studies of 王 in a million: 25–55 ms). One pass over the table in
    Python is the cheapest exact way found (docs/performance.md): the same in SQL took
    longer. A pair's number is an upper bound (a run of letters is counted as often as it
    stands, and the fields are written one after the other, so a pair where one field ends
    and the next begins counts too): the pairs only tell that a two-letter term is in no
    text (``_in_no_text``), which the character index could only tell by reading every row
    that holds both letters.
    """
    return cached("studies", "characters", _character_counts, version=version)


def _one_character_total(q: str, version: int) -> int | None:
    """The exact total of a search for the caseless character ``q`` alone, or None when the
    warm-up's character counts are not there (a write since the last import)."""
    counts = stored("studies", "characters", version=version)
    if counts is None:
        return None
    # Studies whose identifier is the character itself and whose text does not hold it.
    others = Study.objects.filter(_identifier_match(q)).exclude(_text_match(q, "contains"))
    return counts.get(q, 0) + others.count()


def _in_no_text(q: str, version: int) -> bool:
    """Whether the warm-up's counts show that no study's text holds the two Latin letters
    ``q`` (``zw``, a patient's initials): the term then matches identifiers and initials
    alone, through their B-trees, instead of every row holding both letters."""
    if len(q) != 2 or not (q.isascii() and q.isalpha()):
        return False
    counts = stored("studies", "characters", version=version)
    return counts is not None and q.upper() not in counts


def _read_sql(letters: str) -> tuple[str, list[str]]:
    """``_read_as``'s rule in SQL, over a table's ``pinyin`` and ``initials`` columns."""
    if len(letters) < query.TRIGRAM:
        return "initials = %s", [letters]
    # Letters alone: nothing for LIKE to escape.
    return "(pinyin LIKE %s OR initials = %s)", [f"%{letters}%", letters]


def _readings_total(letters: str, version: int) -> int | None:
    """How many studies' names are read ``letters`` (ASCII letters, lower case: their pinyin
    holds it, or their initials are it), summed over the warm-up's name readings; None when
    none is, or when they are not current (a write since the last import: the warm-up's mark,
    asked in the same query).

    The rule is ``_read_as``'s, written as SQL: every first search of a pinyin term asks this,
    and compiling it through the ORM cost the request more than the database's answer.
    """
    read, params = _read_sql(letters)
    current, current_params = stored_in_sql("studies", READINGS_KEY, version=version)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT SUM(studies) FROM {NameReading._meta.db_table} WHERE {read} AND {current}",
            [*params, *current_params],
        )
        return cursor.fetchone()[0]


def _named_otherwise(q: str, letters: str, version: int) -> int | None:
    """How many studies' patient names hold the pinyin term ``q`` (any letter case) without
    being read ``letters`` (``Zhang Wei`` for ``zhang``), summed over the warm-up's names that
    have a letter; None when they are not current."""
    read, params = _read_sql(letters)
    current, current_params = stored_in_sql("studies", READINGS_KEY, version=version)
    with connection.cursor() as cursor:
        # A pinyin term is letters and spaces: nothing for LIKE to escape. No row: not current.
        cursor.execute(
            f"SELECT COALESCE(SUM(studies), 0) FROM {LetteredName._meta.db_table} "
            f"WHERE UPPER(name) LIKE UPPER(%s) AND NOT {read} HAVING {current}",
            [f"%{q}%", *params, *current_params],
        )
        row = cursor.fetchone()
    return None if row is None else row[0]


def _pinyin_total(q: str, read: int, version: int) -> int:
    """The exact total of a search for the pinyin term ``q`` alone whose readings hold
    ``read`` studies: those, and the studies the contract's match finds that are not read so.
    Those whose name holds the term (a Latin name) are summed over the warm-up's names that
    have a letter; the others (an identifier, a description) are few, found through the text
    indexes. Without current names, all of them are counted."""
    named = _named_otherwise(q, pinyin_term(q), version)
    if named is None:
        others = Study.objects.filter(_term_match(q, True)).exclude(_pinyin_match(q, False))
        return read + others.count()
    elsewhere = _text_match(q, "icontains", UNNAMED_TEXT_FIELDS) | _identifier_match(q)
    others = (
        Study.objects.filter(elsewhere)
        .exclude(patient_name__icontains=q)
        .exclude(_pinyin_match(q, False))
    )
    return read + named + others.count()


def _list_hints(hints: Hints) -> dict[str, Any]:
    return {
        "in_texts": not hints.text_absent,
        "narrowest_word": hints.narrowest_word,
        "unindexed_words": hints.unindexed_words,
    }


def study_count(filters: Filters, hints: Hints, version: int) -> int:
    """The exact number of studies matching ``filters``, counted (core.search.counts caches
    it): a caseless character alone from the warm-up's character counts, a pinyin term alone
    from its name readings (``hints.read_as``)."""
    if hints.read_as is not None:
        return _pinyin_total(filters.q, hints.read_as, version)
    if filters.alone("q") and len(filters.q) == 1 and query.is_caseless(filters.q):
        total = _one_character_total(filters.q, version)
        if total is not None:
            return total
    return study_list(**filters.values, **_list_hints(hints)).count()


def study_matches(
    filters: Filters, hints: Hints, *, text_index: bool = True, filter_first: bool = False
) -> QuerySet[Study]:
    """``study_list``, its matches sorted rather than met along the date index when
    ``filter_first`` (core.search.plan)."""
    matches = study_list(**filters.values, text_index=text_index, **_list_hints(hints))
    if filter_first:
        return matches.order_by(*study_ordering(filters.sort, filter_first=True))
    return matches


# A pinyin term whose readings hold more studies than this (``zhang``) is totalled from them
# and paged by the walk of the date index its total picks: reading every match once for its
# total and first page reads more rows than the walk meets its page in (twenty matches
# among as many rows as the table holds per match).
PINYIN_SCAN_LIMIT = 5_000


def study_hints(filters: Filters, version: int) -> Hints:
    q = filters.q
    if not q:
        return Hints()
    # Only PostgreSQL reads a term's matches once for its total and its first page, or walks
    # the date index for a frequent one: the name readings, which tell the two apart, are kept
    # there alone (SQLite counts through its FTS tables, and would read the readings whole).
    finds_then_sorts = backends.current().FINDS_THEN_SORTS
    if _in_no_text(q, version):
        # Two letters no text holds (``zw``): the studies of those initials and the few whose
        # identifier is the term, found through B-trees. A count, then a sort of them for the
        # page, would read each twice; one scan gives both where the name readings (of two
        # letters: the initials alone) bound them (docs/performance.md).
        read = _readings_total(q.lower(), version) if finds_then_sorts else None
        return Hints(text_absent=True, scanned_once=read is not None and read <= FIRST_SCAN_LIMIT)
    letters = pinyin_term(q)
    if (
        finds_then_sorts
        and filters.alone("q")
        and letters is not None
        and len(letters) >= query.TRIGRAM
    ):
        read = _readings_total(letters, version)
        if read is not None and read > PINYIN_SCAN_LIMIT:
            # The other matches are counted only if the total is not cached (study_count).
            return Hints(read_as=read)
    return Hints(
        scanned_once=finds_then_sorts and _scanned_once(q, version), **_word_hints(q, version)
    )


# A term whose characters' counts bound its matches to this many rows or fewer gets its total
# and its first page from one scan of its matches, the first time it is searched; the count
# and the page would otherwise each read the same rows (a common two-character name: 27 ms
# and 25 ms). A term that may match more is counted first, then paged by the plan its total
# picks (the walk of the date index, for a frequent term).
FIRST_SCAN_LIMIT = 20_000


def _scanned_once(q: str, version: int) -> bool:
    """Whether the first search of ``q`` reads its matches once for its total and its page."""
    if query.is_caseless(q):
        if len(q) < 2:
            return False  # totalled from the character counts, paged by a short walk
        counts = stored("studies", "characters", version=version)
        return counts is not None and min(counts.get(c, 0) for c in q) <= FIRST_SCAN_LIMIT
    # Letters have no counts to bound them; a term of three or more is found through the
    # trigram indexes, and its count reads its matches anyway (keys only here: a frequent
    # term, 31,317 matches of "ang", costs 28 -> 36 ms, a rare one saves its page's query).
    return len(q) >= query.TRIGRAM
