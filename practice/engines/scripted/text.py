"""Text handling shared by the scripted patient and grader: pure functions, no Django.

English text is lower-cased, contractions and clinicians' abbreviations are expanded, and each
word the vocabulary does not know is replaced by the nearest word it does know (rapidfuzz,
optimal string alignment: one edit in a short word, two in a long one), so that "wen did the
pian strat" reads "when did the pain start". Chinese text is matched on characters.

The vocabulary's phrase patterns are a small language, so that anyone can extend the data
files without writing regular expressions (see ``vocabulary/__init__.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

_CJK = re.compile(r"[\u3400-\u9fff]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_CONTRACTIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), repl)
    for pattern, repl in (
        (r"\bcan't\b", "can not"),
        (r"'s (been|got|had)\b", r" has \1"),
        (r"\bwon't\b", "will not"),
        (r"\bain't\b", "is not"),
        (r"n't\b", " not"),
        (r"'re\b", " are"),
        (r"'ve\b", " have"),
        (r"'ll\b", " will"),
        (r"'d\b", " would"),
        (r"'m\b", " am"),
        (r"\b(it|that|what|where|how|there|who|when|which|here|this)'s\b", r"\1 is"),
        (r"'s\b", ""),
    )
)
# Symbols that carry words before punctuation is dropped ("N&V", "SOB/cough").
_SYMBOLS: tuple[tuple[str, str], ...] = (
    ("n&v", " nausea and vomiting "),
    ("n+v", " nausea and vomiting "),
    ("d&v", " diarrhoea and vomiting "),
    ("&", " and "),
    ("+", " and "),
    ("/10", " out of ten "),
)
_NON_WORD = re.compile(r"[^a-z0-9\u3400-\u9fff]+")
# Sentence and clause boundaries (both languages), used to split a message into its parts.
_SENTENCE_END = re.compile(r"(?<=[.!?。！？…])\s*|\n+")


def is_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


def english_tokens(text: str, abbreviations: dict[str, str]) -> list[str]:
    """Lower-cased words with contractions and abbreviations expanded (no typo correction)."""
    text = text.lower().translate(_APOSTROPHES)
    for symbol, words in _SYMBOLS:
        text = text.replace(symbol, words)
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    words: list[str] = []
    for word in _NON_WORD.sub(" ", text).split():
        words.extend(abbreviations.get(word, word).split())
    return words


class Speller:
    """Replaces unknown English words by the nearest known one.

    A word is known if the vocabulary has it or a ``word*`` pattern of the vocabulary starts
    it. A correction keeps the first letter (typos rarely hit it, and this keeps real words
    the vocabulary does not list, "smoking" -> "looking", from being "corrected"). Ties go to
    the first word in sorted order, so the result is deterministic.
    """

    def __init__(
        self, known: Iterable[str], protected: Iterable[str] = (), prefixes: Iterable[str] = ()
    ) -> None:
        self.known = frozenset(known) | frozenset(protected)
        self.prefixes = tuple(sorted({p for p in prefixes if len(p) >= 3}))
        by_letter: dict[str, list[str]] = {}
        # A prefix is a correction too: "smoak" -> "smok", which "smok*" reads as smoking.
        choices = {w for w in known if len(w) >= 3} | {p for p in self.prefixes if len(p) >= 4}
        for word in sorted(choices):
            by_letter.setdefault(word[0], []).append(word)
        self._choices = by_letter

    @lru_cache(maxsize=8192)  # noqa: B019 - one Speller per language, built once
    def correct(self, word: str) -> str:
        if word in self.known or len(word) < 4 or word.isdigit():
            return word
        if any(word.startswith(p) for p in self.prefixes):
            return word
        max_edits = 1 if len(word) <= 6 else 2
        found = process.extractOne(
            word, self._choices.get(word[0], ()), scorer=OSA.distance, score_cutoff=max_edits
        )
        return found[0] if found else word

    def correct_all(self, words: Sequence[str]) -> list[str]:
        return [self.correct(w) for w in words]


# A full stop after these is not the end of a sentence ("Dr. Lee").
_ABBREVIATED = re.compile(
    r"(?:\b(?:dr|mr|mrs|ms|prof|st|no|vs|etc|e\.g|i\.e|approx)|\b[a-z])\.$", re.I
)


def split_sentences(text: str) -> list[str]:
    """The message's sentences, verbatim (stripped), in order; used for quotes."""
    parts = [part for part in _SENTENCE_END.split(text) if part and part.strip()]
    sentences: list[str] = []
    for part in parts:
        if sentences and _ABBREVIATED.search(sentences[-1]):
            # Rejoin with the text between them as it was, so a quote stays verbatim.
            start = text.index(sentences[-1]) + len(sentences[-1])
            joined = sentences[-1] + text[start : text.find(part, start)] + part.strip()
            if joined in text:
                sentences[-1] = joined
                continue
            sentences.append(part.strip())
        else:
            sentences.append(part.strip())
    return sentences


def chinese_normal(text: str) -> str:
    """Chinese text with full-width forms folded, spaces dropped and Latin letters lowered."""
    text = text.translate(_FULL_WIDTH).lower()
    return re.sub(r"\s+", "", text)


_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULL_WIDTH[0x3000] = 0x20


# --- the pattern language -----------------------------------------------------------------


def compile_english(pattern: str, *, marked: bool = False) -> re.Pattern[str]:
    """One English phrase pattern, matched against space-joined normalised words.

    Words are separated by spaces; ``a|b`` is either word (``a|b+c`` is ``a`` or ``b c``);
    ``word*`` any word starting with ``word``; a trailing ``?`` makes a word optional;
    ``...`` stands for up to five words; ``$`` is the end of the message.

    ``marked``: each word of the pattern (not the words a ``...`` stands for) is a named group
    ``w1``, ``w2``... so that the reader can tell which words a match is made of.
    """
    parts: list[str] = []
    for token in pattern.lower().split():
        if token == "$":
            parts.append("$")
            continue
        if token == "...":
            parts.append(r"(?:\S+ ){0,5}")
            continue
        optional = token.endswith("?")
        token = token.rstrip("?")
        alternatives = []
        for alt in token.split("|"):
            # "going+on": an alternative of several words.
            words = [re.escape(w) for w in alt.split("+")]
            if words[-1].endswith("\\*"):
                words[-1] = words[-1][:-2] + r"\S*"
            alternatives.append(" ".join(words))
        name = f"?P<w{len(parts)}>" if marked else "?:"
        group = f"({name}" + "|".join(alternatives) + ") "
        parts.append(f"(?:{group})?" if optional else group)
    # Matched against " w1 w2 ... wn " so that every word group ends with its own space.
    return re.compile(" " + "".join(parts))


def compile_chinese(pattern: str, *, marked: bool = False) -> re.Pattern[str]:
    """One Chinese pattern: characters as written; ``a|b`` alternatives; ``…`` up to eight
    characters; parentheses group."""
    # A gap never crosses the end of a sentence: two questions are two questions.
    # ``marked``: each gap is a named group ``g1``, ``g2``... (see compile_english).
    pieces = pattern.split("…")
    out = pieces[0]
    for n, piece in enumerate(pieces[1:], start=1):
        gap = f"(?P<g{n}>[^。！？；?!;]{{0,8}})" if marked else "[^。！？；?!;]{0,8}"
        out += gap + piece
    return re.compile(out)


def pattern_words(patterns: Iterable[str]) -> tuple[set[str], set[str]]:
    """The plain words and the ``word*`` prefixes of English patterns (the speller's
    knowledge)."""
    words: set[str] = set()
    prefixes: set[str] = set()
    for pattern in patterns:
        for token in pattern.lower().split():
            for alt in token.rstrip("?").split("|"):
                if alt.endswith("*"):
                    prefixes.add(alt[:-1])
                elif alt and alt not in ("...", "$"):
                    words.add(alt)
    return words, prefixes


def combine(patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str]:
    """One pattern that matches where any of ``patterns`` does (one search instead of many)."""
    joined = "|".join(f"(?:{p.pattern})" for p in patterns)
    return re.compile(joined or r"(?!)")
