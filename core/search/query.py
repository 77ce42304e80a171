"""The matching of a search term, shared by every searchable model: which indexes a term can
use and which LIKE decides it. Results never depend on the index conditions here: they only
propose rows that the LIKE conditions then decide exactly."""

import unicodedata

# Terms shorter than this cannot use the trigram indexes.
TRIGRAM = 3


def is_caseless(q: str) -> bool:
    """Whether ``q`` has no letter case at all (Chinese characters, digits), so that a
    case-sensitive LIKE finds exactly what the case-insensitive one finds.

    Letters of category Lo ("other letter") and digits have no upper or lower form and are no
    other character's upper case; leaving out UPPER() on every row made counting a common
    two-character term a quarter faster (255 -> 192 ms over a million rows).
    """
    return bool(q) and all(unicodedata.category(c) in ("Lo", "Nd") for c in q)
