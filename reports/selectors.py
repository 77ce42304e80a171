"""Every read of reports: search with snippets, detail, filter options."""

import re
from collections.abc import Iterable
from datetime import date
from itertools import chain
from operator import add
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from core.cache import cached, stored
from core.dates import day_after, day_start
from core.errors import NotFound
from core.pagination import in_key_order
from core.search import backends, plan, query
from core.search.backends import TextIndex
from core.search.counts import count_caseless
from core.search.spec import Filters, Hints
from core.text import codepoint_order
from reports.models import Report, ReportFinding
from studies.selectors import study_keys_by_patient_name

SNIPPET_LENGTH = 200
# The characters of a report's content, as indexed by the GIN index of migration 0003 (the
# expression must stay identical to be usable); see core.search.backends.
CONTENT_CHARS = "regexp_split_to_array(upper(content), '')"
# Reports have no SQLite text index: a term reads their content.
CONTENT_INDEX = TextIndex(chars=CONTENT_CHARS)
# A walk of the date index reads a report's content for LIKE about as fast as the matches of a
# term are sorted (20,000 reports read in 23 ms, 4,272 matches sorted in 11 ms, at a million
# reports): a term walks only while the walk's window holds at most two rows per match. The
# matches of a term in older reports only (an English word) are not in a window of the newest
# reports, and the page came from sorting them after the walk had read its whole window.
WALK_WINDOW_PER_MATCH = 2.0
# The characters and pairs of characters held by at least this many reports have their counts
# kept for the data version (``report_character_counts``); a rarer one is counted from the
# character index, which reads few rows for it, and is left out to keep the counts small:
# every Chinese term's search reads them from the cache.
COUNTED_MIN = 4_000


def report_list(
    *,
    q: str | None = None,
    patient_name: str | None = None,
    status: str | None = None,
    radiologist: str | None = None,
    exam_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    finding: str | None = None,
    assertion: str | None = None,
    min_size_mm: float | None = None,
    text_index: bool = True,
    filter_first: bool = False,
    by_characters: bool = False,
) -> QuerySet[Report]:
    """Reports matching the filters, newest first (ties by report_id), with their study.

    ``patient_name`` is a substring of the study's patient name, without letter case.
    ``text_index``, ``filter_first`` and ``by_characters`` only choose PostgreSQL's plan
    (see core.search.plan and ``report_hints``); the rows and their order are the same.
    """
    qs = Report.objects.select_related("study")
    q = (q or "").strip()
    if q:
        backend = backends.current()
        short = backend.short_term_index(q, by_characters=by_characters)
        # As for studies: no UPPER() for a term without case where no trigram index is used.
        caseless = (short or not text_index) and query.is_caseless(q)
        text = Q(content__contains=q) if caseless else Q(content__icontains=q)
        candidates = (
            backend.text_candidates(q, CONTENT_INDEX, by_characters=by_characters)
            if text_index
            else None
        )
        if candidates is not None:
            text = candidates if backend.candidates_are_exact(q) else candidates & text
        qs = qs.filter(text)
    name = (patient_name or "").strip()
    if name and text_index:
        # The studies of that name through their text indexes, then their reports through
        # the (study, -created_at) index.
        qs = qs.filter(study__in=study_keys_by_patient_name(name=name))
    elif name:
        # A walk of the date index checks each report's study, joined by its key.
        qs = qs.filter(study__patient_name__icontains=name)
    if status:
        qs = qs.filter(status=status)
    if radiologist:
        qs = qs.filter(radiologist=radiologist)
    if exam_id:
        qs = qs.filter(study_id=exam_id)
    # A bound past the edge of the calendar (0001-01-01 east of UTC, 9999-12-31) is none.
    if date_from and (start := day_start(date_from)) is not None:
        qs = qs.filter(created_at__gte=start)
    if date_to and (end := day_after(date_to)) is not None:
        qs = qs.filter(created_at__lt=end)
    if finding:
        qs = qs.filter(Exists(_findings(finding, assertion, min_size_mm, report_id=OuterRef("pk"))))
    newest = plan.unindexed_order("created_at", descending=True) if filter_first else "-created_at"
    return qs.order_by(newest, codepoint_order("report_id"))


def report_export_list(**filters: Any) -> QuerySet[Report]:
    """The reports of a search for its export, in the search's order. On PostgreSQL a search
    by text, name or finding sorts its matches, found through their indexes, rather than
    walk the date index to meet them: an export reads them all, and a rare term's walk would
    read most of the table."""
    selective = any((filters.get(name) or "") for name in ("q", "patient_name", "finding"))
    filter_first = backends.current().FINDS_THEN_SORTS and selective
    return report_list(**filters, filter_first=filter_first)


def _findings(
    finding: str, assertion: str | None, min_size_mm: float | None, **where: Any
) -> QuerySet[ReportFinding]:
    rows = ReportFinding.objects.filter(key=finding, assertion=assertion or "present", **where)
    if min_size_mm is not None:
        rows = rows.filter(max_mm__gte=min_size_mm)
    return rows


def finding_options() -> dict[str, Any]:
    """The finding keys report search accepts, with their labels, by key."""
    from nlp import default_lexicon

    findings = sorted(default_lexicon().findings.values(), key=lambda f: f.key)
    return {
        "findings": [
            {"key": f.key, "label_en": f.label_en, "label_zh": f.label_zh, "region": f.region}
            for f in findings
        ],
        "assertions": ["present", "absent", "uncertain"],
    }


def snippet(content: str, q: str | None, *, length: int = SNIPPET_LENGTH) -> str:
    """At most ``length`` characters of ``content``, centred on the first match of ``q``."""
    q = (q or "").strip()
    match = re.search(re.escape(q), content, flags=re.IGNORECASE) if q else None
    if match is None or len(content) <= length:
        return content[:length]
    centre = (match.start() + match.end()) // 2
    start = max(0, min(centre - length // 2, len(content) - length))
    return content[start : start + length]


def report_search_item(report: Report, *, q: str | None) -> dict[str, Any]:
    return {
        "report_id": report.report_id,
        "exam_id": report.study_id,
        "patient_name": report.study.patient_name,
        "exam_item": report.study.exam_item,
        "radiologist": report.radiologist,
        "status": report.status,
        "created_at": report.created_at,
        "submitted_at": report.submitted_at,
        "reviewed_at": report.reviewed_at,
        "snippet": snippet(report.content, q),
    }


def report_get(*, report_id: str) -> Report:
    report = Report.objects.select_related("study").filter(report_id=report_id).first()
    if report is None:
        raise NotFound("Report not found")
    return report


def _distinct(field: str) -> list[str]:
    values = Report.objects.exclude(**{field: ""}).values_list(field, flat=True).distinct()
    return sorted(set(values))


def _filter_options() -> dict[str, list[str]]:
    return {"statuses": _distinct("status"), "radiologists": _distinct("radiologist")}


def report_filter_options(*, version: int | None = None) -> dict[str, list[str]]:
    """Distinct non-empty statuses and radiologists over all reports, by code point."""
    return cached("reports", "options", _filter_options, version=version)


def count_characters(texts: Iterable[tuple[str, int]]) -> dict[str, int]:
    """How many reports hold each character without letter case, and each pair of adjacent
    ones, from ``(content, how many reports hold it)``: those held by ``COUNTED_MIN`` reports
    or more; see ``report_character_counts``."""
    return count_caseless(texts, _characters_and_pairs, minimum=COUNTED_MIN)


def _characters_and_pairs(text: str) -> Iterable[str]:
    return chain(text, map(add, text, text[1:]))


def _character_counts() -> dict[str, int]:
    # Identical texts (a report template used as written) are read and split once.
    texts = (
        Report.objects.values("content")
        .annotate(times=Count("pk"))
        .order_by()
        .values_list("content", "times")
    )
    return count_characters(texts.iterator(chunk_size=20_000))


def report_character_counts(*, version: int) -> dict[str, int]:
    """How many reports hold each frequent character without letter case (a Chinese
    character, a digit) and each frequent pair of them in their content, computed by the
    warm-up after an import.

    The total of a Chinese term of one or two characters is then a lookup instead of a count
    of its matches: the character index finds them, but counting them reads the table's page
    of each one for its visibility (`结节`, 60,088 of a million reports: ~90 ms; with an index
    of the pairs themselves still ~60 ms). For a longer term they bound its matches and the
    candidates of the character index, which choose its plan (``report_hints``). The pass over
    the texts costs ~3 s at a million reports of which 68,000 are different (this
    benchmark's data: each text is read and split once), ~22 s if all were different.
    """
    return cached("reports", "characters", _character_counts, version=version)


def report_hints(filters: Filters, version: int) -> Hints:
    """What the warm-up's character counts tell of a search's term ``q``, for its plan
    (core.search.plan).

    ``total``: the exact total of the term alone, when it is a counted character or pair.
    ``scanned_once``: see ``_scanned_once``, from the bound of the reports holding it (the
    rarest of its characters and pairs), when the counts are there. ``by_characters``: find a longer term through the
    character index, whose candidates then are mostly matches and are checked by a plain LIKE,
    rather than through the trigram index, which checks each candidate with UPPER() (`脑梗死`,
    14,524 reports holding its rarest character and all matches: counted in 21 ms instead
    of 37-46 ms; `胸腔积液`, 14,980 matches among the 98,798 holding its characters: 109 ms,
    where the trigram index takes 35).
    """
    q = filters.q
    if not query.is_caseless(q):
        return Hints(scanned_once=_scanned_once(q, None, None))
    counts = stored("reports", "characters", version=version)
    if counts is None:
        return Hints()  # a write since the last warm-up
    total = counts.get(q) if filters.alone("q") and len(q) <= 2 else None

    def rarest(terms: Iterable[str]) -> int:
        # A term left out of the counts is held by fewer reports than their minimum.
        return min(counts.get(term, COUNTED_MIN - 1) for term in terms)

    bound = rarest(_characters_and_pairs(q))
    return Hints(
        total=total,
        # Checking a row without UPPER() costs less than half as much (21 against 46 ms).
        by_characters=len(q) >= query.TRIGRAM and rarest(q) <= 2 * rarest(map(add, q, q[1:])),
        scanned_once=_scanned_once(q, total, bound),
    )


# A term whose counts bound its matches to this many reports or fewer gets its total and its
# first page from one scan of its matches, the first time it is searched (see studies).
FIRST_SCAN_LIMIT = 20_000


def _scanned_once(q: str, total: int | None, bound: int | None) -> bool:
    """Whether the first search of ``q`` reads its matches once for its total and its page.

    A term with letters, of three characters or more, is found through the trigram index,
    whose every candidate is read again to check the term: its count reads all its matches,
    and a sorted page would read them a second time (`No acute`, 11,589 of a million
    reports: count 28 ms, page 29 ms; both from one scan, 36 ms). On SQLite, which has no
    text index for reports, the count reads every report, and the page walked the date
    index through most of them for a term absent from the newest reports (100,000 reports:
    26 + 42 ms; one scan, 28-48 ms). Reports with letters are a small share of the
    department's (English ones): a term in every one of them costs about the same either way
    (20,424: counted in 52 ms, then paged; both at once in 65 ms).

    A Chinese term whose character counts bound its matches to ``FIRST_SCAN_LIMIT`` is read
    once too (`脑梗死`, 14,524: 54 -> 35 ms); a frequent one, totalled from the counts or
    counted, is paged by a short walk of the date index, which one scan of its tens of
    thousands of matches would not beat. On SQLite, with no character index, one scan reads
    the table once, where a count and a walk read it twice for a term found in older reports
    only (100,000 reports, cold p95 of the benchmark's Chinese terms: 78 ms against 112).
    """
    if not query.is_caseless(q):
        return len(q) >= query.TRIGRAM
    return total is None and bound is not None and bound <= FIRST_SCAN_LIMIT


_FINDING_FILTERS = ("finding", "assertion", "min_size_mm")


def finding_alone(filters: Filters) -> bool:
    """A search by finding with no other filter: answered from the findings table alone."""
    if not filters.get("finding"):
        return False
    return not any(
        (v.strip() if isinstance(v, str) else v)
        for k, v in filters.values.items()
        if k not in _FINDING_FILTERS
    )


def finding_page(
    filters: Filters, *, page: int, page_size: int, version: int
) -> tuple[list[Report], int]:
    """Total and page from the findings table's index on (key, assertion, -created_at): it holds
    one row per report, finding and assertion, with the report's created_at, so neither the
    count nor the page reads the reports table (a semi-join with it read every report's row:
    146 ms cold at 94,000 reports). Only the page's 20 reports are read then."""
    finding, assertion = filters.get("finding"), filters.get("assertion") or "present"
    rows = _findings(finding, assertion, filters.get("min_size_mm"))
    name, least = f"{finding}:{assertion}", filters.get("min_size_mm")
    if least is None:
        counts = stored("reports", "finding_counts", version=version)
        total = None if counts is None else counts.get(name, 0)
    else:
        # A least size: the finding's sizes counted by the warm-up, summed from it up (a count
        # of the rows read 52,243 index entries for nodule >= 8 mm at a million reports).
        sizes = stored("reports", "finding_sizes", version=version)
        total = None if sizes is None else sum(n for mm, n in sizes.get(name, []) if mm >= least)
    if total is None:
        total = cached("reports", filters.total_key, rows.count, version=version, costly=True)
    offset = (page - 1) * page_size
    if offset >= total:
        return [], total
    ids = list(
        rows.order_by("-created_at", codepoint_order("report_id")).values_list(
            "report_id", flat=True
        )[offset : offset + page_size]
    )
    return in_key_order(Report.objects.select_related("study"), ids), total


def _finding_counts() -> dict[str, int]:
    rows = ReportFinding.objects.values_list("key", "assertion").annotate(n=Count("pk"))
    return {f"{key}:{assertion}": n for key, assertion, n in rows.order_by()}


def report_finding_counts(*, version: int) -> dict[str, int]:
    """How many reports hold each finding with each assertion, computed by the warm-up after
    an import: the total of a search by finding alone is then a lookup, not a count of the
    finding's rows (a frequent negated finding is one report in six)."""
    return cached("reports", "finding_counts", _finding_counts, version=version)


def _finding_sizes() -> dict[str, list[list[float]]]:
    rows = (
        ReportFinding.objects.filter(max_mm__isnull=False)
        .values_list("key", "assertion", "max_mm")
        .annotate(n=Count("pk"))
    )
    sizes: dict[str, list[list[float]]] = {}
    for key, assertion, mm, n in rows.order_by():
        sizes.setdefault(f"{key}:{assertion}", []).append([mm, n])
    return sizes


def report_finding_sizes(*, version: int) -> dict[str, list[list[float]]]:
    """How many reports hold each finding with each assertion at each size, computed by the
    warm-up: the total of a search by finding with a least size is then a sum over the few
    sizes reports state (40 distinct values at a million benchmark reports), not a count."""
    return cached("reports", "finding_sizes", _finding_sizes, version=version)


def report_count(filters: Filters, hints: Hints, version: int) -> int:
    """The exact number of reports matching ``filters``, counted (core.search.counts caches
    it) unless the warm-up's character counts hold it."""
    if hints.total is not None:
        return hints.total
    return report_list(**filters.values, by_characters=hints.by_characters).count()


def report_matches(
    filters: Filters, hints: Hints, *, text_index: bool = True, filter_first: bool = False
) -> QuerySet[Report]:
    """``report_list`` in the plan core.search.plan chose."""
    return report_list(
        **filters.values,
        text_index=text_index,
        filter_first=filter_first,
        by_characters=hints.by_characters and text_index,
    )
