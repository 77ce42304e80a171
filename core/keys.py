"""The short stable keys that name a set of filter values in the caches."""

import hashlib
import json
from typing import Any


def key_of(params: dict[str, Any]) -> str:
    """A short stable key for a dict of filter values."""
    text = json.dumps(params, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
