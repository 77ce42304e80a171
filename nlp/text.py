"""Split a report into sections and sentences, keeping character spans in the original text.

Spans are half-open ``(start, end)`` offsets into the text that was passed in, so that
``text[start:end]`` is exactly the section body or sentence reported: a reader can always
find the words an extracted item came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from nlp.lexicon import Lexicon, default_lexicon, is_chinese
from nlp.matcher import is_word_char, normalise_phrase

BODY = "body"  # the section of text that stands under no header

# Always the end of a sentence (the character stays with the sentence it ends).
_HARD_STOPS = frozenset("。！？；;!?\n\r")
_PERIODS = frozenset(".．")
_LIST_PUNCT = frozenset(".．、")
_CLOSERS = frozenset("\"')]}”’）】」")
_LIST_MARKER = re.compile(r"\d{1,2}")


@dataclass(frozen=True, slots=True)
class Section:
    """A part of a report under one header (or the text under none, key ``body``)."""

    key: str  # normalised: findings, impression, conclusion, history, technique, ...
    title: str | None  # the header as written, e.g. "IMPRESSION" or "诊断意见"
    text: str
    span: tuple[int, int]
    title_span: tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence, with the key of the section it belongs to."""

    index: int
    text: str
    span: tuple[int, int]
    section: str


def split_sections(text: str, *, lexicon: Lexicon | None = None) -> list[Section]:
    """Sections in order of appearance; text with no recognised header is one ``body`` section.

    A header counts at the start of the text or a line, or right after sentence punctuation,
    when a colon follows it (``Findings:``, ``诊断意见：``), when it stands alone on its line
    (``IMPRESSION``), or in brackets (``【检查所见】``). Case does not matter.
    """
    lex = lexicon or default_lexicon()
    pattern = _header_pattern(lex)
    matches = list(pattern.finditer(text))
    sections: list[Section] = []
    first = matches[0].start() if matches else len(text)
    lead = _strip_span(text, 0, first)
    if lead[0] < lead[1]:
        sections.append(Section(BODY, None, text[lead[0] : lead[1]], lead, None))
    for i, m in enumerate(matches):
        group = next(g for g in ("a", "b", "c") if m.group(g) is not None)
        title = m.group(group)
        key = lex.section_headers[normalise_phrase(title)]
        stop = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        s, e = _strip_span(text, m.end(), stop)
        sections.append(Section(key, title, text[s:e], (s, e), m.span(group)))
    return sections


def split_sentences(
    text: str,
    start: int = 0,
    end: int | None = None,
    *,
    section: str = BODY,
    first_index: int = 0,
    lexicon: Lexicon | None = None,
) -> list[Sentence]:
    """Sentences of ``text[start:end]`` with spans in ``text``.

    Ends a sentence at 。！？；; ! ? and line breaks, and at a period unless it is part of a
    number (``3.2 cm``), an abbreviation (``e.g.``, ``Dr.``), a list marker (``1.``) or is
    followed directly by a letter or digit.
    """
    lex = lexicon or default_lexicon()
    stop = len(text) if end is None else end
    sentences: list[Sentence] = []
    piece_start = start

    def close(at: int) -> None:
        s, e = _strip_span(text, piece_start, at)
        # Skip pieces of only punctuation or dashes: they are layout, not sentences.
        if any(ch.isalnum() for ch in text[s:e]):
            idx = first_index + len(sentences)
            sentences.append(Sentence(idx, text[s:e], (s, e), section))

    for i in range(start, stop):
        ch = text[i]
        if ch in _LIST_PUNCT:
            marker = _inline_list_marker(text, i, piece_start, stop)
            if marker is not None:
                # "1.双肺结节 2.肝囊肿": item 2 starts a new sentence at its number.
                close(marker)
                piece_start = marker
                continue
        if ch in _HARD_STOPS or (
            ch in _PERIODS and _period_ends_sentence(text, i, piece_start, stop, lex)
        ):
            end_at = i if ch in "\n\r" else i + 1
            while end_at < stop and text[end_at] in _CLOSERS:
                end_at += 1  # a closing bracket or quote stays with its sentence
            close(end_at)
            piece_start = max(end_at, i + 1)
    close(stop)
    return sentences


def split_report(
    text: str, *, lexicon: Lexicon | None = None
) -> tuple[list[Section], list[Sentence]]:
    """Sections, and the sentences of all sections numbered in reading order."""
    lex = lexicon or default_lexicon()
    sections = split_sections(text, lexicon=lex)
    sentences: list[Sentence] = []
    for sec in sections:
        sentences.extend(
            split_sentences(
                text, *sec.span, section=sec.key, first_index=len(sentences), lexicon=lex
            )
        )
    return sections, sentences


def _inline_list_marker(text: str, i: int, piece_start: int, stop: int) -> int | None:
    """Start of a list number such as " 2." or " 2、" in the middle of a line, before Chinese."""
    k = i
    while k > piece_start and text[k - 1].isdigit() and i - k < 2:
        k -= 1
    if k == i or k - 1 <= piece_start or not text[k - 1].isspace():
        return None
    if text[k - 1] in "\n\r" or not text[piece_start : k - 1].strip():
        return None
    nxt = text[i + 1] if i + 1 < stop else ""
    return k if is_chinese(nxt) else None


def _period_ends_sentence(text: str, i: int, piece_start: int, stop: int, lex: Lexicon) -> bool:
    prev = text[i - 1] if i > 0 else ""
    nxt = text[i + 1] if i + 1 < stop else ""
    glued = bool(nxt) and not (nxt.isspace() or nxt in _CLOSERS or is_chinese(nxt))
    # "3.2", "e.g.x", "v1.2" are glued to what follows. One exception: "clear.Heart", a
    # missing space between two sentences.
    missing_space = prev.isascii() and prev.islower() and nxt.isascii() and nxt.isupper()
    if glued and not missing_space:
        return False
    if _LIST_MARKER.fullmatch(text[piece_start:i].strip()):
        return False  # "1. Right lower lobe nodule" or "1.双肺结节"
    j = i
    while j > piece_start and (is_word_char(text[j - 1]) or text[j - 1] == "."):
        j -= 1
    word = text[j:i].lower().strip(".")
    return not (word and word in lex.abbreviations)


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@lru_cache(maxsize=8)
def _header_pattern(lex: Lexicon) -> re.Pattern[str]:
    headers = sorted(lex.section_headers, key=len, reverse=True)  # longest first: 临床诊断 > 诊断
    alt = "|".join(r"[\s\-]+".join(re.escape(w) for w in h.split(" ")) for h in headers)
    # At the start, after a line break or after sentence punctuation, plus optional spaces and
    # markdown-ish bullets; never in the middle of a sentence ("prior report: ...").
    lead = r"(?<![^\n。；;.!！?？])[ \t\u3000]*(?:[#*>]+[ \t]*)?"
    word_end = r"(?![A-Za-z0-9])"
    return re.compile(
        lead
        + rf"(?:[【\[](?P<a>{alt})[】\]][ \t\u3000]*[:：]?"
        + rf"|(?P<b>{alt}){word_end}[ \t\u3000]*[:：]"
        + rf"|(?P<c>{alt}){word_end}[ \t\u3000]*(?=\r?\n|\Z))",
        re.IGNORECASE | re.MULTILINE,
    )
