"""The pinyin of a patient's name, stored beside it so that ``zhangwei`` or ``zw`` find 张伟.

pypinyin gives the readings (its dictionary of characters and phrases); the only table kept
here is the surname reading of the polyphonic characters whose everyday reading pypinyin
gives first (曾 is ceng in 曾经 but Zeng as a surname). A name is read surname first, as the
RIS writes Chinese names.
"""

import re
from functools import cache, lru_cache
from typing import Any

# Two-character surnames whose reading differs from the characters read one by one.
COMPOUND_SURNAMES = {
    "万俟": ("mo", "qi"),
    "尉迟": ("yu", "chi"),
    "长孙": ("zhang", "sun"),
    "单于": ("chan", "yu"),
    "澹台": ("tan", "tai"),
}
# One-character surnames read otherwise as a surname than pypinyin reads them by default.
SURNAMES = {
    "单": "shan",
    "曾": "zeng",
    "仇": "qiu",
    "解": "xie",
    "区": "ou",
    "查": "zha",
    "朴": "piao",
    "覃": "qin",
    "缪": "miao",
    "乐": "yue",
    "盖": "ge",
    "召": "shao",
    "翟": "zhai",
    "秘": "bi",
    "都": "du",
    "黑": "he",
    "种": "chong",
    "繁": "po",
    "员": "yun",
    "句": "gou",
    "折": "she",
    "薄": "bo",
    "能": "nai",
    "祭": "zhai",
    "藏": "zang",
}
# Marks a run that pypinyin could not read (no Chinese character): kept as its letters.
_OTHER = "\x00"
_LETTERS = re.compile("[a-z]+")
# Names repeat (one patient, many studies).
_CACHE_SIZE = 65_536


# The reading of each character read so far, "" for one pypinyin does not read alone as one
# Chinese syllable (bounded by the characters there are: some tens of thousands).
_CHARACTERS: dict[str, str] = {}
# Longer texts are read by pypinyin alone: the phrase check below looks at every run of two
# or more characters, which grows with the square of the length.
_BY_CHARACTER_MAX = 8


def _pypinyin(text: str) -> list[str]:
    # Imported with the first name read: pypinyin's dictionaries take ~57 MB of a process's
    # memory, which a server worker that only searches never needs.
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(text, style=Style.NORMAL, errors=lambda run: [_OTHER + run])


def _by_character(text: str) -> list[str] | None:
    """pypinyin's reading of ``text`` put together from its characters' own readings, or None
    where that could differ from reading the whole text.

    pypinyin cuts a run of Chinese characters into the phrases of its dictionary and reads
    every other character alone, each through the same converter (segmentation, phrase lookup,
    style: the most of an import's time spent on names, docs/performance.md). Where no two or
    more neighbouring characters form a phrase (most names), the whole reads as its characters
    do, each read once per process.
    """
    if not text or len(text) > _BY_CHARACTER_MAX:
        return None
    readings = []
    for character in text:
        reading = _CHARACTERS.get(character)
        if reading is None:
            alone = _pypinyin(character)
            reading = _CHARACTERS[character] = (
                alone[0] if len(alone) == 1 and not alone[0].startswith(_OTHER) else ""
            )
        if not reading:
            return None
        readings.append(reading)
    if len(text) > 1:
        phrases = _phrases()
        for start in range(len(text) - 1):
            for end in range(start + 2, len(text) + 1):
                if text[start:end] in phrases:
                    return None
    return readings


@cache
def _phrases() -> dict:
    from pypinyin.constants import PHRASES_DICT

    return PHRASES_DICT


def _readings(text: str) -> list[str]:
    readings = _by_character(text)
    return _pypinyin(text) if readings is None else readings


def _syllables(name: str) -> list[str]:
    """The name's Chinese syllables and, marked by ``_OTHER``, its other runs, in order."""
    name = name.strip()
    if name[:2] in COMPOUND_SURNAMES:
        return [*COMPOUND_SURNAMES[name[:2]], *_readings(name[2:])]
    if name[:1] in SURNAMES:
        return [SURNAMES[name[0]], *_readings(name[1:])]
    return _readings(name)


def syllables(name: str) -> list[str]:
    """The pinyin syllables of the Chinese characters of ``name``, surname first."""
    return [part for part in _syllables(name) if not part.startswith(_OTHER)]


@lru_cache(maxsize=_CACHE_SIZE)
def name_pinyin(name: str | None) -> tuple[str, str]:
    """``read_name``, remembered for the last names read (a study saved one by one, migration
    0007's backfill; an import keeps its own memo of them)."""
    return read_name(name)


def read_name(name: str | None) -> tuple[str, str]:
    """(full pinyin, initials) of a patient's name: 张伟 -> ("zhangwei", "zw").

    Lowercase and toneless (ü as v: 吕 -> lv); the ASCII letters of a mixed name are kept,
    lowercased, each word giving one initial (张Anna -> "zhanganna", "za"). A name without a
    Chinese character has neither: ("", ""), so that a Latin name is found as before only.
    """
    if not name or name.isascii():
        return "", ""  # no Chinese character: nothing to read
    parts = _syllables(name)
    joined = "".join(parts)
    if parts and _OTHER not in joined:
        return joined, "".join([part[0] for part in parts])  # Chinese syllables alone
    full: list[str] = []
    initials: list[str] = []
    chinese = False
    for part in parts:
        if part.startswith(_OTHER):
            words = _LETTERS.findall(part[1:].lower())
        else:
            chinese = True
            words = [part]
        full.extend(words)
        initials.extend(word[0] for word in words)
    if not chinese:
        return "", ""
    return "".join(full), "".join(initials)


# Studies read and written at a time by ``fill_pinyin``.
FILL_BATCH = 10_000


def fill_pinyin(connection: Any, *, batch: int = FILL_BATCH) -> int:
    """Compute the pinyin columns of every stored study whose name has a Chinese character
    (migration 0007's backfill); return how many studies changed.

    The table is read in primary-key order, ``batch`` studies at a time, each batch written
    by its primary key in its own statement: no scan of the table per name, and memory bounded
    at a million studies. Raw SQL, so that the migration does not depend on today's model.
    """
    changed = 0
    last = ""
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT exam_id, patient_name, patient_name_pinyin, patient_name_initials "
                "FROM studies_study WHERE exam_id > %s ORDER BY exam_id LIMIT %s",
                [last, batch],
            )
            rows = cursor.fetchall()
            if not rows:
                return changed
            last = rows[-1][0]
            updates = [
                (exam_id, *computed)
                for exam_id, name, *stored in rows
                if (computed := name_pinyin(name)) != tuple(stored)
            ]
            if updates and connection.vendor == "postgresql":
                ids, full, initials = (list(column) for column in zip(*updates, strict=True))
                cursor.execute(
                    "UPDATE studies_study s SET patient_name_pinyin = v.pinyin, "
                    "patient_name_initials = v.initials FROM unnest(%s::text[], %s::text[], "
                    "%s::text[]) AS v(exam_id, pinyin, initials) WHERE s.exam_id = v.exam_id",
                    [ids, full, initials],
                )
            elif updates:
                cursor.executemany(
                    "UPDATE studies_study SET patient_name_pinyin = %s, "
                    "patient_name_initials = %s WHERE exam_id = %s",
                    [(full, initials, exam_id) for exam_id, full, initials in updates],
                )
            changed += len(updates)
