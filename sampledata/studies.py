"""Deterministic generator of radiology studies (SPEC section 2 Study fields).

Studies come out in order_datetime order over the two years before ``end`` (the RIS export
time). About a third are repeat visits: the radiologist's advice ("复查" in 3 months, a
pleural effusion re-checked in two weeks, a cancelled exam re-booked) schedules a patient's
return, usually for the same exam item, and an annual health check brings people back a year
later. Only patients with a pending return are remembered, so memory stays bounded.
"""

from __future__ import annotations

import heapq
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sampledata import vocab as V
from sampledata.clinical import Reading, ReadingEngine, weighted_choice
from studies.ris import RIS_HEADERS

DEFAULT_SEED = 20251029
DEFAULT_END = datetime(2025, 10, 29, 13, 2, 3)  # the RIS export 20251029130203.xlsx
DEFAULT_DAYS = 730

# A study's fields in the RIS export's column order (studies.ris: pure, no Django).
STUDY_FIELDS = tuple(RIS_HEADERS)

# Order hour of day for scheduled work, weighted towards the morning list.
WORK_HOURS = (
    (7, 2),
    (8, 10),
    (9, 12),
    (10, 12),
    (11, 9),
    (12, 3),
    (13, 6),
    (14, 10),
    (15, 10),
    (16, 8),
    (17, 4),
    (18, 2),
    (19, 1),
    (20, 1),
)

# Probability that a non-emergency slot goes to a returning patient when one is due.
P_RETURN = 0.42
P_RETURN_EMERGENCY = 0.12
MAX_PENDING = 200_000  # returns scheduled but not yet taken up
OVERDUE_DAYS = 400  # a return this late never happens


class StudyRecord(dict):
    """A study: a plain ``dict`` of the SPEC's Study fields (and nothing else).

    ``age_days`` (an attribute, not a key) is the patient's age in days, which the RIS
    export needs to write an infant's age as ``3月`` or ``5天``; None when unknown.
    """

    __slots__ = ("age_days",)

    def __init__(self, *args: object, age_days: int | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.age_days = age_days


@dataclass(slots=True)
class _Patient:
    name: str
    gender: str | None
    birth: date | None
    mrn: str | None
    last: datetime
    visits: int = 0


def _table(pairs: tuple[tuple[object, int], ...]) -> list:
    out: list = []
    for value, weight in pairs:
        out.extend([value] * weight)
    return out


def _age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


class _Generator:
    def __init__(self, n: int, seed: int, end: datetime, days: int) -> None:
        self.n = n
        self.rng = random.Random(seed)
        self.end = end.replace(microsecond=0)
        self.days = days
        self.engine = ReadingEngine()
        self.sources = _table(V.SOURCES)
        self.hours = _table(WORK_HOURS)
        self.surnames = _table(tuple((s, max(1, 40 - i // 3)) for i, s in enumerate(V.SURNAMES)))
        self.status_old = _table(V.STATUS_WEIGHTS_OLD)
        self.status_recent = _table(V.STATUS_WEIGHTS_RECENT)
        self.age_brackets = _table(V.AGE_BRACKETS)
        self.pending: list[tuple[datetime, int, _Patient, str | None, str]] = []
        self.pending_seq = 0
        self.recent: deque[_Patient] = deque(maxlen=500)
        # Registration numbers grow over time with gaps (other departments register too).
        self.mrn_counter = 1_000_000_000 + self.rng.randrange(200_000_000)
        self.order_counter = 10_000_000 + self.rng.randrange(1_000_000)
        self.day_seq: dict[str, int] = {}

    # -- calendar ------------------------------------------------------------------------

    def day_counts(self) -> Iterator[tuple[date, int]]:
        """Studies per day: weekdays busier than weekends, a slow growth over the years."""
        first = self.end.date() - timedelta(days=self.days - 1)
        weights = []
        for i in range(self.days):
            d = first + timedelta(days=i)
            w = (1.0, 1.0, 1.0, 1.0, 0.95, 0.55, 0.45)[d.weekday()]
            weights.append(w * (0.85 + 0.3 * i / max(1, self.days - 1)))
        total = sum(weights)
        cum = 0.0
        given = 0
        for i, w in enumerate(weights):
            cum += w
            upto = round(cum / total * self.n) if i < self.days - 1 else self.n
            yield first + timedelta(days=i), upto - given
            given = upto

    # -- patients ------------------------------------------------------------------------

    def new_patient(self, day: date, source: str, when: datetime) -> _Patient:
        rng = self.rng
        if source == "急诊" and rng.random() < 0.004:
            # unidentified emergency patient: registered without MRN, sex or age
            return _Patient(V.UNIDENTIFIED_NAME, rng.choice((None, "U")), None, None, when)
        r = rng.random()
        gender = "M" if r < 0.49 else "F" if r < 0.985 else "U" if r < 0.99 else None
        male = gender == "M" or (gender not in ("M", "F") and rng.random() < 0.5)
        style = rng.random()
        if style < 0.84:
            surname = (
                rng.choice(V.COMPOUND_SURNAMES)
                if rng.random() < 0.004
                else rng.choice(self.surnames)
            )
            pool = V.GIVEN_M if male else V.GIVEN_F
            given = rng.choice(pool) + (rng.choice(pool) if rng.random() < 0.7 else "")
            name = surname + given
        elif style < 0.95:
            pool = V.GIVEN_M_PINYIN if male else V.GIVEN_F_PINYIN
            name = f"{rng.choice(tuple(V.SURNAME_PINYIN.values()))} {rng.choice(pool)}"
        else:
            pool = V.WESTERN_M if male else V.WESTERN_F
            name = f"{rng.choice(pool)} {rng.choice(V.WESTERN_LAST)}"
        bracket = rng.choice(self.age_brackets)
        if bracket == 0:
            birth = day - timedelta(days=rng.randint(1, 360))
        else:
            years = bracket + rng.randrange(8)
            birth = day - timedelta(days=int(years * 365.25) + rng.randrange(365))
        self.mrn_counter += rng.randint(1, 40)
        mrn = f"{self.mrn_counter % 10_000_000_000:010d}"
        return _Patient(name, gender, birth, mrn, when)

    def schedule(self, patient: _Patient, due: datetime, item: str | None, source: str) -> None:
        if patient.mrn is None or len(self.pending) >= MAX_PENDING:
            return
        self.pending_seq += 1
        heapq.heappush(self.pending, (due, self.pending_seq, patient, item, source))

    def take_return(self, when: datetime) -> tuple[_Patient, str | None, str] | None:
        pending = self.pending
        while pending and pending[0][0] < when - timedelta(days=OVERDUE_DAYS):
            heapq.heappop(pending)
        if pending and pending[0][0] <= when:
            _, _, patient, item, source = heapq.heappop(pending)
            if patient.last.date() < when.date():
                return patient, item, source
        return None

    # -- exams ---------------------------------------------------------------------------

    def pick_item(self, source: str, patient: _Patient, day: date) -> V.ExamItem:
        rng = self.rng
        idx = V.SOURCE_INDEX[source]
        age = _age_on(patient.birth, day) if patient.birth else 40
        pool = [
            (it, it.weights[idx])
            for it in V.EXAM_ITEMS
            if it.weights[idx] > 0
            and age >= it.min_age
            and (it.sex is None or it.sex == patient.gender)
        ]
        return weighted_choice(rng, pool)

    def sibling_item(self, item: V.ExamItem) -> V.ExamItem:
        """A follow-up sometimes uses another exam of the same region (平扫 → 增强, CT → MR)."""
        same = [it for it in V.EXAM_ITEMS if it.region == item.region and it is not item]
        return self.rng.choice(same) if same else item

    def timings(self, source: str, modality: str) -> tuple[int, int]:
        """(order → check-in, check-in → report certification) in seconds."""
        rng = self.rng
        if source == "急诊":
            wait = rng.randint(3, 40) * 60
            tat = int(min(240, max(12, rng.lognormvariate(3.7, 0.5))) * 60)
        elif source == "住院":
            wait = int(min(26 * 60, max(20, rng.lognormvariate(5.3, 0.9))) * 60)
            tat = int(min(30 * 60, max(30, rng.lognormvariate(5.6, 0.8))) * 60)
        elif source == "体检":
            wait = rng.randint(5, 60) * 60
            tat = int(min(72 * 60, max(90, rng.lognormvariate(6.9, 0.7))) * 60)
        else:
            if modality == "MR" and rng.random() < 0.4:  # MR outpatients get an appointment
                wait = rng.randint(1, 7) * 86400 + rng.randint(-3, 3) * 3600
            else:
                wait = int(min(4 * 60, max(5, rng.lognormvariate(3.7, 0.8))) * 60)
            tat = int(min(72 * 60, max(25, rng.lognormvariate(5.0, 0.9))) * 60)
            if rng.random() < 0.03:  # a weekend or a hard case: over a day
                tat = rng.randint(25, 72) * 3600
        return wait + rng.randint(0, 59), tat + rng.randint(0, 59)

    def exam_id(self, modality: str, day: date) -> str:
        key = f"{V.EXAM_ID_PREFIX[modality]}{day:%y%m%d}"
        seq = self.day_seq.get(key, 0) + 1
        self.day_seq[key] = seq
        return f"{key}{seq:04d}"

    # -- main loop -------------------------------------------------------------------------

    def slots(self, day: date, count: int) -> list[tuple[datetime, str]]:
        rng = self.rng
        out = []
        last_day = day == self.end.date()
        end_secs = self.end.hour * 3600 + self.end.minute * 60 + self.end.second
        for _ in range(count):
            source = rng.choice(self.sources)
            if source == "急诊":
                secs = rng.randrange(86400)
            else:
                secs = rng.choice(self.hours) * 3600 + rng.randrange(3600)
            if last_day and secs > end_secs:  # nothing is ordered after the export
                secs = rng.randrange(end_secs + 1)
            out.append((datetime(day.year, day.month, day.day) + timedelta(seconds=secs), source))
        out.sort(key=lambda x: x[0])
        return out

    def studies(self) -> Iterator[StudyRecord]:
        rng = self.rng
        end = self.end
        for day, count in self.day_counts():
            self.day_seq.clear()
            for order_dt, slot_source in self.slots(day, count):
                yield self.study(rng, end, day, order_dt, slot_source)

    def study(
        self, rng: random.Random, end: datetime, day: date, order_dt: datetime, source: str
    ) -> StudyRecord:
        returning = None
        p = P_RETURN_EMERGENCY if source == "急诊" else P_RETURN
        if rng.random() < p:
            returning = self.take_return(order_dt)
            if returning is None and self.recent and rng.random() < 0.25:
                # an unplanned return (a new complaint) of someone seen lately
                candidate = self.recent[rng.randrange(len(self.recent))]
                if candidate.last.date() < day:
                    returning = (candidate, None, "门诊" if source != "急诊" else source)
        if returning is not None:
            patient, item_name, source = returning
            item = V.ITEMS_BY_NAME.get(item_name or "")
            if item is not None and rng.random() < 0.15:
                item = self.sibling_item(item)
            if item is None or (item.sex is not None and item.sex != patient.gender):
                item = self.pick_item(source, patient, day)
        else:
            patient = self.new_patient(day, source, order_dt)
            item = self.pick_item(source, patient, day)
        patient.last = order_dt
        patient.visits += 1
        modality = item.modality

        wait, tat = self.timings(source, modality)
        check_in = order_dt + timedelta(seconds=wait)
        cert = check_in + timedelta(seconds=tat)
        recent = end - order_dt < timedelta(days=3)
        status = rng.choice(self.status_recent if recent else self.status_old)
        # The export is a snapshot: nothing can have happened after it.
        if status in (V.STATUS_CERTIFIED, V.STATUS_REPORTED) and cert > end:
            status = V.STATUS_EXAMINED
        if status == V.STATUS_EXAMINED and check_in + timedelta(minutes=15) > end:
            status = V.STATUS_CHECKED_IN
        if status == V.STATUS_CHECKED_IN and check_in > end:
            status = V.STATUS_SCHEDULED

        check_in_out: datetime | None = None
        cert_out: datetime | None = None
        physician: str | None = None
        if status == V.STATUS_CERTIFIED:
            check_in_out = check_in if rng.random() > 0.01 else None
            cert_out = cert
            if rng.random() > 0.02:
                physician = self.certifier()
        elif status == V.STATUS_REPORTED:
            check_in_out = check_in
            if rng.random() < 0.75:
                cert_out = cert
            if rng.random() < 0.5:
                physician = rng.choice(V.SENIOR_RADIOLOGISTS + V.JUNIOR_RADIOLOGISTS)
        elif status in (V.STATUS_EXAMINED, V.STATUS_CHECKED_IN) or (
            # cancelled after registration: the check-in was recorded
            status == V.STATUS_CANCELLED and check_in <= end and rng.random() < 0.3
        ):
            check_in_out = check_in

        age: int | None = None
        age_days: int | None = None
        if patient.birth is not None:
            age = _age_on(patient.birth, day)
            age_days = (day - patient.birth).days
            if rng.random() < 0.005:  # the RIS lost the age
                age = age_days = None
        self.order_counter += rng.randint(3, 60)
        study = StudyRecord(
            exam_id=self.exam_id(modality, day),
            medical_record_no=patient.mrn if (patient.mrn and rng.random() > 0.004) else None,
            application_order_no=(f"SQ{self.order_counter:010d}" if rng.random() > 0.02 else None),
            patient_name=patient.name,
            patient_gender=patient.gender,
            patient_age=age,
            exam_status=status,
            exam_source=source,
            exam_item=item.name,
            equipment_type=modality if rng.random() > 0.01 else None,
            exam_description=None,
            order_datetime=order_dt,
            check_in_datetime=check_in_out,
            report_certification_datetime=cert_out,
            certified_physician=physician,
            age_days=age_days,
        )
        reading = self.engine.read(study)
        if (
            reading is not None
            and status in (V.STATUS_CERTIFIED, V.STATUS_REPORTED)
            and rng.random() > 0.04
        ):
            study["exam_description"] = reading.findings

        self.plan_return(rng, patient, item, source, status, order_dt, reading)
        if patient.mrn is not None:
            self.recent.append(patient)
        return study

    def certifier(self) -> str:
        rng = self.rng
        pool = V.SENIOR_RADIOLOGISTS if rng.random() < 0.9 else V.JUNIOR_RADIOLOGISTS
        return rng.choice(pool)

    def plan_return(
        self,
        rng: random.Random,
        patient: _Patient,
        item: V.ExamItem,
        source: str,
        status: str,
        when: datetime,
        reading: Reading | None,
    ) -> None:
        if status == V.STATUS_CANCELLED:
            if rng.random() < 0.5:  # re-booked
                self.schedule(patient, when + timedelta(days=rng.randint(1, 10)), item.name, source)
            return
        recall = reading.recall_days if reading is not None else None
        # Most patients keep the first follow-up appointments; fewer keep coming for years.
        if recall is not None and rng.random() < max(0.25, 0.85 - 0.08 * patient.visits):
            days = max(1, int(recall * rng.uniform(0.9, 1.4)))
            short = days <= 14 and source in ("急诊", "住院")
            back_source = "住院" if short else "体检" if source == "体检" else "门诊"
            self.schedule(patient, when + timedelta(days=days), item.name, back_source)
        elif source == "体检" and rng.random() < 0.35:
            self.schedule(patient, when + timedelta(days=rng.randint(340, 400)), item.name, "体检")
        elif rng.random() < 0.12:
            same = item.name if rng.random() < 0.4 else None
            self.schedule(patient, when + timedelta(days=rng.randint(20, 400)), same, "门诊")


def generate_studies(
    n: int = 3000,
    *,
    seed: int = DEFAULT_SEED,
    end: datetime = DEFAULT_END,
    days: int = DEFAULT_DAYS,
) -> Iterator[StudyRecord]:
    """Yield ``n`` studies in order_datetime order, all dated within ``days`` before ``end``.

    Each is a dict of :data:`STUDY_FIELDS` (naive datetimes, ``None`` for empty cells); the
    same arguments always give the same studies.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if days < 1:
        raise ValueError("days must be >= 1")
    yield from _Generator(n, seed, end, days).studies()
