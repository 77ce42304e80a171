"""The parity step: the same URLs to the legacy service and the product.

Most answers must be identical. The exception is by design (issue 26): the product's ``q`` also
finds a Chinese name by its pinyin and initials, and a term of several words by each word, so a
Latin or several-word name (``Zhang Wei``) finds more rows in the product than in the legacy.
Those searches are checked as a superset of the legacy's instead.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import urllib.parse

from runall.classes import S, q
from runall.client import Client
from runall.servers import Server

# The product's largest page (core/pagination.py); each window of days of a superset check is
# read in pages of this size, at most this many of them.
MAX_PAGE_SIZE = 100
MAX_WINDOW_PAGES = 50


def searched_as_legacy(term: str) -> bool:
    """Whether the product matches ``term`` exactly as the legacy does (ILIKE on the name,
    description and item): a single word that is not pinyin. Mirrors studies/selectors.py: a
    term is also read as pinyin when its letters, spaces left out, are two or more ASCII
    letters (``pinyin_term``), and every word is matched when there are several."""
    if len(term.split()) > 1:
        return False
    letters = "".join(term.split())
    return not (len(letters) >= 2 and letters.isascii() and letters.isalpha())


def parity_urls(params: dict) -> tuple[list[str], list[str]]:
    """The URLs (the same draws as before issue 26, seed 3, and three Latin fragments): those
    answered as the legacy answers, and the searches by a pinyin-like or several-word term,
    answered with more rows by design."""
    rng = random.Random(3)
    terms = params["q_terms"]
    exact = [q(S, page=p, page_size=20) for p in (1, 2, 7)]
    named = rng.sample(terms["name_full"], 8) + terms["surname"][:3] + terms["description"][:3]
    exact += [q(S, q=t, page=1, page_size=20) for t in named if searched_as_legacy(t)]
    # Three Latin fragments (the q_latin class's first: zhang, Wang, "li n") beside the names
    # the draws give, which hold one or two Latin names only: pinyin matches are often many.
    latin = [t for t in named if not searched_as_legacy(t)] + terms["latin_fragment"][:3]
    superset = [q(S, q=t, page=1, page_size=20) for t in latin]
    exact += [q(S, exam_item=i, page=2, page_size=20) for i in rng.sample(params["exam_items"], 4)]
    exact += [
        q(S, exam_status=params["exam_statuses"][0], exam_source="门诊", page=3, page_size=20)
    ]
    exact += [f"/api/v1/studies/{e}" for e in rng.sample(params["exam_ids"], 5)]
    exact += ["/api/v1/studies/filters/options"]
    return exact, superset


def get_json(client: Client, url: str) -> dict:
    status, _, body = client.get(url)
    return json.loads(body) if status == 200 else {"status": status}


def day_windows(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """The days around ``days`` (a day more either side: the date filter is by local day),
    overlapping ones merged, in order."""
    windows: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        start, end = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


def superset_check(product: Client, url: str, legacy_page: dict, product_page: dict) -> dict:
    """The product's total is at least the legacy's, and every study of the legacy's first page
    is among the product's matches. Those are read around the days of the legacy's studies,
    all of them, in pages of 100: the extra matches elsewhere in time cannot hide a study the
    product misses, and a sparse legacy answer does not mean reading the product's many."""
    out = {
        "url": urllib.parse.unquote(url),
        "legacy_total": legacy_page.get("total"),
        "product_total": product_page.get("total"),
    }
    if "total" not in legacy_page or "total" not in product_page:
        return {**out, "holds": False, "why": "not answered"}
    if product_page["total"] < legacy_page["total"]:
        return {**out, "holds": False, "why": "fewer rows"}
    wanted = {row["exam_id"] for row in legacy_page["data"]}
    term = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["q"][0]
    days = [dt.date.fromisoformat(row["order_datetime"][:10]) for row in legacy_page["data"]]
    requests = 0
    for start, end in day_windows(days):
        window = {"q": term, "date_from": start.isoformat(), "date_to": end.isoformat()}
        for page in range(1, MAX_WINDOW_PAGES + 1):
            rows = get_json(product, q(S, **window, page=page, page_size=MAX_PAGE_SIZE))
            rows = rows.get("data", [])
            requests += 1
            wanted -= {row["exam_id"] for row in rows}
            if not wanted or len(rows) < MAX_PAGE_SIZE:
                break
        else:
            why = f"more than {MAX_WINDOW_PAGES} pages of matches from {start} to {end}"
            return {**out, "holds": False, "why": why, "requests": requests}
        if not wanted:
            break
    return {**out, "holds": not wanted, "missing": sorted(wanted)[:5], "requests": requests}


def step_parity(product: Server, legacy: Server, params: dict) -> dict:
    """Same URLs to both: totals and the page's rows must agree (the product's q also matches
    identifiers, so only name/text terms are compared); the searches the product answers with
    more rows by design must find every row the legacy finds."""
    exact, superset = parity_urls(params)
    a, b = Client(legacy.base), Client(product.base, product.token)
    same, diffs, checks = 0, [], []
    try:
        for u in exact:
            ja, jb = get_json(a, u), get_json(b, u)
            if ja == jb:
                same += 1
            else:
                keys = [k for k in set(ja) | set(jb) if ja.get(k) != jb.get(k)]
                diffs.append({"url": urllib.parse.unquote(u), "differs_in": sorted(keys)})
        for u in superset:
            checks.append(superset_check(b, u, get_json(a, u), get_json(b, u)))
    finally:
        a.close()
        b.close()
    return {
        "urls": len(exact) + len(superset),
        "compared": len(exact),
        "identical": same,
        "diffs": diffs[:10],
        # issue 26: the product also finds these names by pinyin and by each word
        "superset": {
            "urls": len(superset),
            "holds": sum(c["holds"] for c in checks),
            "more_rows": sum(c["holds"] and c["product_total"] > c["legacy_total"] for c in checks),
            "legacy_rows": sum(c["legacy_total"] or 0 for c in checks),
            "product_rows": sum(c["product_total"] or 0 for c in checks),
            "checks": checks,
        },
    }
