"""Longest-match phrase finder shared by findings, cues and laterality terms.

A character trie over the lower-cased text, rather than one big regular expression: Python's
``re`` tries alternatives in order at every position, which is slow for hundreds of terms and
gives the first alternative rather than the longest. The trie walks each start position once
and keeps the longest phrase that ends on a word boundary.

Rules (the data files document them for their editors):
- case-insensitive; a space or hyphen in a phrase matches any run of spaces or hyphens;
- a phrase that starts/ends with an ASCII letter or digit must start/end on a word boundary
  (so "no" does not match inside "nodule", "not" not inside "cannot"); CJK text has no word
  boundaries, so Chinese phrases match as substrings;
- optionally a plain "s"/"es" plural is accepted after a phrase ending in a letter;
- "*" inside a phrase allows up to ``max_gap`` characters other than clause punctuation;
- overlapping matches: the longest wins, then the leftmost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

_SEPARATORS = frozenset(" \t\r\n\f\v\u00a0\u3000-\u2010\u2011\u2012\u2013")
_END = ""  # trie key of a phrase's payload; no text character is the empty string
_GAP = "*"
# A gap never crosses clause or sentence punctuation: 胸腔*积液 must not join two clauses.
_GAP_EXCLUDED = "，,；;：:。.！!？?\n\r"


_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def is_word_char(ch: str) -> bool:
    """ASCII letters and digits: the characters that make up English words and numbers."""
    # A set lookup: this runs for every character of every sentence, several times.
    return ch in _ASCII_ALNUM


def normalise_phrase(phrase: str) -> str:
    """Lower-case and collapse every run of separators into one space."""
    out: list[str] = []
    pending_space = False
    for ch in phrase.strip().lower():
        if ch in _SEPARATORS:
            pending_space = True
            continue
        if pending_space and out:
            out.append(" ")
        pending_space = False
        out.append(ch)
    return "".join(out)


def _lower_same_length(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    # A few characters lower-case to two (e.g. "İ"); keep offsets aligned with the original.
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


@dataclass(frozen=True, slots=True)
class PhraseHit(Generic[T]):
    """One match: its span in the searched text, the payload and the phrase that matched."""

    start: int
    end: int
    payload: T
    phrase: str
    # Spans of the literal pieces (more than one for gap phrases). Cues found inside a gap
    # still count ("胸腔未见积液"), cues overlapping a literal piece do not.
    pieces: tuple[tuple[int, int], ...]

    @property
    def head_start(self) -> int:
        """Start of the last literal piece: the word a preceding cue has to stand before."""
        return self.pieces[-1][0]


class PhraseMatcher(Generic[T]):
    """Find non-overlapping, longest phrases of a fixed vocabulary in text."""

    def __init__(
        self,
        phrases: Iterable[tuple[str, T]],
        *,
        plurals: bool = False,
        max_gap: int = 4,
    ) -> None:
        self._root: dict[str, dict] = {}
        self._gaps: list[tuple[re.Pattern[str], T, str]] = []
        self._plurals = plurals
        seen: dict[str, T] = {}
        for phrase, payload in phrases:
            norm = normalise_phrase(phrase)
            if not norm or norm.replace(_GAP, "").strip() == "":
                raise ValueError(f"empty phrase {phrase!r}")
            if norm in seen:
                if seen[norm] != payload:
                    raise ValueError(f"phrase {phrase!r} is listed for two different entries")
                continue
            seen[norm] = payload
            if _GAP in norm:
                self._gaps.append((_compile_gap(norm, max_gap), payload, phrase))
                continue
            node = self._root
            for ch in norm:
                node = node.setdefault(ch, {})
            node[_END] = (payload, phrase, is_word_char(norm[-1]))

    def find(self, text: str, start: int = 0, end: int | None = None) -> list[PhraseHit[T]]:
        """Matches within ``text[start:end]``, sorted by position, spans in ``text``."""
        sub = text[start:end]
        candidates = self._trie_candidates(sub)
        for rank, (pattern, payload, phrase) in enumerate(self._gaps):
            for m in pattern.finditer(sub):
                pieces = tuple(m.span(g) for g in range(1, (pattern.groups or 0) + 1))
                candidates.append((m.start(), m.end(), payload, phrase, pieces, 1 + rank))
        chosen = _longest_non_overlapping(candidates)
        return [
            PhraseHit(
                start=s + start,
                end=e + start,
                payload=payload,
                phrase=phrase,
                pieces=tuple((a + start, b + start) for a, b in pieces),
            )
            for s, e, payload, phrase, pieces, _ in chosen
        ]

    def _trie_candidates(self, sub: str) -> list[tuple]:
        low = _lower_same_length(sub)
        n = len(low)
        root = self._root
        found: list[tuple] = []
        for i in range(n):
            ch = low[i]
            node = root.get(ch)
            if node is None:
                continue
            if i > 0 and is_word_char(ch) and is_word_char(low[i - 1]):
                continue  # inside a word
            best: tuple[int, tuple] | None = None
            j = i + 1
            while True:
                terminal = node.get(_END)
                if terminal is not None:
                    e = self._right_edge(low, j, terminal[2])
                    if e >= 0:
                        best = (e, terminal)
                if j >= n:
                    break
                c = low[j]
                if c in _SEPARATORS:
                    while j < n and low[j] in _SEPARATORS:
                        j += 1
                    node = node.get(" ")
                else:
                    node = node.get(c)
                    j += 1
                if node is None:
                    break
            if best is not None:
                e, (payload, phrase, _) = best
                found.append((i, e, payload, phrase, ((i, e),), 0))
        return found

    def _right_edge(self, low: str, j: int, ends_in_word: bool) -> int:
        """End of the match if a phrase ending at ``j`` ends on a boundary, else -1."""
        n = len(low)
        if not ends_in_word or j >= n or not is_word_char(low[j]):
            return j
        if self._plurals and low[j - 1].isalpha():
            for suffix in ("s", "es"):
                k = j + len(suffix)
                if low.startswith(suffix, j) and (k >= n or not is_word_char(low[k])):
                    return k
        return -1


def _compile_gap(norm: str, max_gap: int) -> re.Pattern[str]:
    pieces = [p.strip() for p in norm.split(_GAP)]
    if any(not p for p in pieces):
        raise ValueError(f"gap phrase {norm!r} has an empty piece")
    gap = f"[^{re.escape(_GAP_EXCLUDED)}]{{0,{max_gap}}}?"
    parts = []
    for piece in pieces:
        body = r"[\s\-]+".join(re.escape(w) for w in piece.split(" "))
        # Each English piece is whole words on its own: "disc*bulge" must not match "discus bulge".
        if is_word_char(piece[0]):
            body = r"(?<![A-Za-z0-9])" + body
        if is_word_char(piece[-1]):
            body += r"(?![A-Za-z0-9])"
        parts.append(f"({body})")
    return re.compile(gap.join(parts), re.IGNORECASE)


def _longest_non_overlapping(candidates: list[tuple]) -> list[tuple]:
    # Longest first, then leftmost, then trie before gap phrases (their order in the file).
    ordered = sorted(candidates, key=lambda c: (c[0] - c[1], c[0], c[5]))
    chosen: list[tuple] = []
    for cand in ordered:
        s, e = cand[0], cand[1]
        if all(e <= c[0] or s >= c[1] for c in chosen):
            chosen.append(cand)
    chosen.sort(key=lambda c: c[0])
    return chosen
