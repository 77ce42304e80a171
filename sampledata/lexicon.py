"""Finding kinds and body regions: the clinical vocabulary the report writer draws on.

Each :class:`Kind` is one finding (a nodule, a pleural effusion, a disc protrusion …) with
its Chinese and English phrasings and the way it evolves between visits (its *course*):

* ``size``     measured (mm); trend grow / stable / shrink / absorb / resolve
* ``grade``    an amount or severity (少量/中等量/大量, 轻度/中度/重度); trend better / stable / worse
* ``chronic``  present and unchanged, occasionally progressing by one grade
* ``healing``  stage 0 acute → 1 healing → 2 old (fractures, infarcts)
* ``percent``  a percentage that falls until resolved (pneumothorax)

Template keys: ``new`` (first seen), ``follow`` (seen before; ``{change}`` says how it
changed), ``resolved``, ``healing`` / ``old`` (stages), ``imp`` / ``imp_healing`` /
``imp_old`` / ``imp_resolved`` (impression lines; ``{chg}`` marks where the change goes),
``better`` / ``worse`` (kind-specific change words). Placeholders: ``{site}``, ``{size}``,
``{prev}``, ``{amount}``, ``{pct}``, ``{prev_pct}``, ``{grade}``, ``{extra}``, ``{advice}``,
``{region}``, ``{joint}`` and any a kind's ``values`` hook adds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from sampledata import sites as S

Templates = dict[str, tuple[str, ...]]

AMOUNTS = (("少量", "small"), ("中等量", "moderate"), ("大量", "large"))
SEVERITY = (("轻度", "mild"), ("中度", "moderate"), ("重度", "severe"))


@dataclass(frozen=True, eq=False)
class Finding:
    """One finding of one patient as last seen; replaced (never mutated) when it evolves."""

    kind: Kind
    site: str = ""
    size: tuple[int, ...] = ()
    grade: int = 0  # amount/severity, stage (healing) or percentage (percent)
    extra: int = 0  # index into kind.extras (nodule type, echo pattern, direction …)
    trend: str = "stable"


# advice(finding, change) -> (zh, en, recall days)
Advice = Callable[[Finding, str], tuple[str, str, int]]
Values = Callable[[Finding, str], dict[str, str]]


@dataclass(frozen=True, eq=False)
class Kind:
    key: str
    organs: tuple[str, ...]
    course: str
    weight: float
    zh: Templates
    en: Templates
    sites: S.Sites | None = None
    size: tuple[int, int] = (0, 0)
    dims: int = 2
    grades: tuple[int, int] = (1, 1)  # range of the first grade seen
    max_grade: int = 3
    amounts: tuple[tuple[str, str], ...] = AMOUNTS
    extras: tuple[tuple[str, str], ...] = ()
    trends: tuple[tuple[str, int], ...] = (("stable", 1),)
    acute: bool = False
    critical: bool = False
    min_age: int = 0
    recall: tuple[int, int] | None = None
    modalities: frozenset[str] | None = None
    advice: Advice | None = None
    values: Values | None = None
    rank: int = 3  # impression order: lower first
    growth: int = 3  # most a growing lesion gains per visit, mm

    @property
    def size_cap(self) -> int:
        # Past this a lesion goes to biopsy or surgery, not to another follow-up scan.
        return round(self.size[1] * 1.6)


@dataclass(frozen=True, eq=False)
class Normal:
    organ: str
    zh: tuple[str, ...]
    en: tuple[str, ...]
    modalities: frozenset[str] | None = None


@dataclass(frozen=True, eq=False)
class Region:
    key: str
    kinds: tuple[Kind, ...]
    normals: tuple[Normal, ...]
    normal_imp: tuple[tuple[str, ...], tuple[str, ...]]
    abnormal_rate: float
    indications: tuple[tuple[str, str], ...]
    context: dict[str, tuple[str, str]] = field(default_factory=dict)

    @cached_property
    def organ_order(self) -> dict[str, int]:
        order: dict[str, int] = {}
        for n in self.normals:
            order.setdefault(n.organ, len(order))
        for k in self.kinds:
            for o in k.organs:
                order.setdefault(o, len(order))
        return order


CT, MR, DR, US = (frozenset({m}) for m in ("CT", "MR", "DR", "US"))
CT_MR = frozenset({"CT", "MR"})


# --------------------------------------------------------------------------------------
# Advice: the recommendation follows the size (Fleischner-like for lung nodules) and
# whether the finding grew; it also tells the study generator when the patient returns.
# --------------------------------------------------------------------------------------


def _lung_nodule_advice(f: Finding, change: str) -> tuple[str, str, int]:
    biggest = max(f.size)
    if change == "larger" or biggest > 8:
        return (
            "不除外肿瘤性病变，建议3个月后复查或进一步检查",
            "malignancy cannot be excluded; follow-up CT in 3 months or PET-CT is recommended",
            90,
        )
    if f.extra == 1:  # pure ground-glass: often inflammatory, re-check sooner
        return (
            "考虑炎性病变可能，建议抗炎治疗后3个月复查",
            "possibly inflammatory; follow-up CT in 3 months is recommended",
            90,
        )
    if biggest > 5:
        return ("建议6个月后复查胸部CT", "follow-up CT in 6 months is recommended", 180)
    return (
        "考虑良性可能，建议12个月后复查",
        "likely benign; optional follow-up CT in 12 months",
        365,
    )


def _thyroid_advice(f: Finding, change: str) -> tuple[str, str, int]:
    if f.grade >= 4 or (change == "larger" and max(f.size) >= 10):
        return ("建议细针穿刺活检", "fine-needle aspiration is recommended", 30)
    if f.grade == 3:
        return ("建议6-12个月后复查", "follow-up ultrasound in 6-12 months", 270)
    return ("建议定期复查", "routine follow-up", 365)


def _breast_advice(f: Finding, change: str) -> tuple[str, str, int]:
    if f.extra == 1 or change == "larger":
        return ("建议穿刺活检", "ultrasound-guided biopsy is recommended", 21)
    return ("建议6个月后复查", "short-interval follow-up in 6 months is recommended", 180)


def _fixed_advice(zh: str, en: str, days: int) -> Advice:
    def advice(f: Finding, change: str) -> tuple[str, str, int]:
        return zh, en, days

    return advice


def _midline_shift(f: Finding, lang: str) -> dict[str, str]:
    # Mass effect follows the haematoma's size: a 30 mm bleed pushes the midline ~3-4 mm.
    biggest = max(f.size) if f.size else 0
    shift = (biggest - 24) // 3 if biggest >= 30 else 0
    opposite = {"L": ("右", "right"), "R": ("左", "left")}[f.site[0]]
    if shift <= 0:
        return {"shift": "中线结构居中。" if lang == "zh" else "No midline shift."}
    if lang == "zh":
        return {"shift": f"中线结构向{opposite[0]}移位约{shift}mm。"}
    return {"shift": f"There is {shift} mm of midline shift to the {opposite[1]}."}


def _ctr(f: Finding, lang: str) -> dict[str, str]:
    return {"ratio": f"0.{52 + 4 * f.grade}"}


def _fluid_depth(f: Finding, lang: str) -> dict[str, str]:
    return {"depth": str(12 + 18 * f.grade + 3 * f.extra)}


def _pelvis_sep(f: Finding, lang: str) -> dict[str, str]:
    return {"sep": str(8 + 7 * f.grade)}


# --------------------------------------------------------------------------------------
# Chest CT
# --------------------------------------------------------------------------------------

NODULE_TYPES = (("实性", "solid"), ("磨玻璃", "ground-glass"), ("混合磨玻璃", "part-solid"))

LUNG_NODULE = Kind(
    "nodule",
    ("lung",),
    "size",
    10,
    zh={
        "new": (
            "{site}见一{extra}结节，大小约{size}，边界清楚。",
            "{site}可见{extra}结节影，大小约{size}，边缘光整。",
            "{site}胸膜下见{extra}小结节，大小约{size}。",
        ),
        "follow": (
            "{site}{extra}结节，现大小约{size}，{change}。",
            "{site}见{extra}结节，大小约{size}，{change}。",
        ),
        "resolved": ("原{site}{extra}结节现未见显示。",),
        "imp": ("{site}{extra}结节{chg}，{advice}。",),
        "imp_resolved": ("原{site}结节已吸收消失，考虑炎性结节。",),
    },
    en={
        "new": (
            "{size} {extra} nodule in the {site}.",
            "There is a {extra} nodule in the {site} measuring {size}.",
            "A {size} {extra} nodule is present in the {site}.",
        ),
        "follow": ("The {extra} nodule in the {site} measures {size}, {change}.",),
        "resolved": ("The previously noted nodule in the {site} is no longer seen.",),
        "imp": ("{extra} nodule in the {site}{chg}; {advice}.",),
        "imp_resolved": (
            "Resolution of the {site} nodule, consistent with an inflammatory process.",
        ),
    },
    sites=S.LOBES,
    size=(4, 13),
    extras=NODULE_TYPES,
    trends=(("grow", 35), ("stable", 48), ("shrink", 7), ("resolve", 10)),
    advice=_lung_nodule_advice,
    rank=2,
)

PLEURAL_EFFUSION = Kind(
    "pleural_effusion",
    ("pleura",),
    "grade",
    6,
    zh={
        "new": (
            "{site}胸腔见{amount}积液，邻近肺组织受压。",
            "{site}胸腔内见弧形液体密度影，考虑{amount}胸腔积液。",
        ),
        "follow": ("{site}胸腔积液{change}，现为{amount}。",),
        "resolved": ("原{site}胸腔积液已吸收，现双侧胸腔未见积液。",),
        "imp": ("{site}胸腔{amount}积液{chg}。",),
        "imp_resolved": ("{site}胸腔积液已吸收。",),
        "better": ("较前减少",),
        "worse": ("较前增多",),
    },
    en={
        "new": (
            "{amount} {site} pleural effusion with adjacent compressive atelectasis.",
            "There is a {amount} {site} pleural effusion.",
        ),
        "follow": ("The {site} pleural effusion is {amount}, {change}.",),
        "resolved": (
            "The previously seen {site} pleural effusion has resolved. No pleural effusion.",
        ),
        "imp": ("{amount} {site} pleural effusion{chg}.",),
        "imp_resolved": ("Resolved {site} pleural effusion.",),
        "better": ("decreased",),
        "worse": ("increased",),
    },
    sites=S.SIDES,
    grades=(1, 2),
    trends=(("better", 65), ("stable", 20), ("worse", 15)),
    acute=True,
    recall=(7, 30),
    rank=1,
)

PNEUMONIA = Kind(
    "pneumonia",
    ("lung",),
    "grade",
    8,
    zh={
        "new": (
            "{site}见斑片状高密度影，边缘模糊，考虑炎性病变。",
            "{site}见片状实变影，内见支气管充气征。",
            "{site}见磨玻璃密度影及条索影，感染性病变可能。",
        ),
        "follow": ("{site}斑片影{change}。", "{site}炎性病变{change}。"),
        "resolved": ("原{site}炎症已基本吸收，局部残留少许纤维条索影。",),
        "imp": (
            "{site}炎症{chg}，请结合临床。",
            "{site}感染性病变可能{chg}，建议治疗后复查。",
            "{site}肺炎{chg}。",
        ),
        "imp_resolved": ("{site}炎症基本吸收。",),
        "better": ("较前吸收、范围缩小", "较前明显吸收"),
        "worse": ("较前范围增大", "较前进展"),
    },
    en={
        "new": (
            "Patchy airspace consolidation in the {site} with air bronchograms, consistent with pneumonia.",
            "Ill-defined opacity in the {site}; early pneumonia cannot be excluded.",
            "Ground-glass and patchy opacities in the {site}, likely infectious.",
        ),
        "follow": ("The consolidation in the {site} is {change}.",),
        "resolved": ("Interval resolution of the previously seen consolidation in the {site}.",),
        "imp": (
            "Pneumonia in the {site}{chg}; follow-up after treatment is recommended.",
            "Findings suggestive of infection in the {site}{chg}; cannot exclude early pneumonia.",
            "{site} pneumonia{chg}.",
        ),
        "imp_resolved": ("Resolved {site} pneumonia.",),
        "better": ("partially resolved", "improved"),
        "worse": ("more extensive", "worse"),
    },
    sites=S.LOBES,
    grades=(1, 2),
    max_grade=2,
    trends=(("better", 75), ("stable", 10), ("worse", 15)),
    acute=True,
    recall=(10, 30),
    rank=1,
)

EMPHYSEMA = Kind(
    "emphysema",
    ("lung",),
    "chronic",
    4,
    zh={
        "new": (
            "双肺透亮度增高，肺纹理稀疏，双肺上叶见多发肺大泡。",
            "双肺见多发小叶中心型透亮区，考虑肺气肿。",
        ),
        "imp": ("慢性支气管炎、肺气肿{chg}。", "双肺肺气肿伴肺大泡形成{chg}。"),
    },
    en={
        "new": (
            "Centrilobular emphysema, upper lobe predominant, with scattered bullae.",
            "Hyperlucent lungs with paraseptal emphysema.",
        ),
        "imp": ("Emphysema{chg}.",),
    },
    min_age=45,
)

INTERSTITIAL = Kind(
    "interstitial",
    ("lung",),
    "chronic",
    3,
    zh={
        "new": (
            "双肺下叶胸膜下见网格状及索条状影，伴少许牵拉性支气管扩张。",
            "双肺胸膜下见网格影及磨玻璃影。",
        ),
        "imp": ("双肺间质性改变{chg}，请结合临床。", "双肺间质性肺炎可能{chg}。"),
        "worse": ("范围较前增大",),
    },
    en={
        "new": (
            "Subpleural reticular opacities in both lower lobes with mild traction bronchiectasis.",
            "Peripheral interstitial reticulation and ground-glass opacities in both lungs.",
        ),
        "imp": (
            "Interstitial changes in both lower lobes{chg}; early fibrotic lung disease cannot be excluded.",
        ),
        "worse": ("increased in extent",),
    },
    trends=(("stable", 80), ("worse", 20)),
    min_age=50,
)

GRANULOMA = Kind(
    "granuloma",
    ("lung",),
    "size",
    5,
    zh={
        "new": ("{site}见钙化结节，直径约{size}。", "{site}见点状钙化灶，大小约{size}。"),
        "imp": ("{site}钙化灶，考虑陈旧性病变{chg}。",),
    },
    en={
        "new": (
            "Calcified granuloma in the {site}, {size}.",
            "A {size} calcified nodule in the {site}, consistent with a granuloma.",
        ),
        "imp": ("Calcified granuloma in the {site}, benign{chg}.",),
    },
    sites=S.LOBES,
    size=(2, 6),
    dims=1,
)

ATELECTASIS = Kind(
    "atelectasis",
    ("lung",),
    "grade",
    3,
    zh={
        "new": ("{site}见条片状密度增高影，考虑局限性肺不张。",),
        "resolved": ("原{site}肺不张已复张。",),
        "imp": ("{site}局限性肺不张{chg}。",),
        "better": ("较前减轻",),
    },
    en={
        "new": ("Linear opacity in the {site}, likely subsegmental atelectasis.",),
        "resolved": ("Previously seen atelectasis in the {site} has resolved.",),
        "imp": ("Subsegmental atelectasis in the {site}{chg}.",),
        "better": ("improved",),
    },
    sites=S.LOWER_LOBES,
    max_grade=1,
    trends=(("better", 80), ("stable", 20)),
    acute=True,
    recall=(14, 45),
)

PNEUMOTHORAX = Kind(
    "pneumothorax",
    ("pleura",),
    "percent",
    0.7,
    zh={
        "new": (
            "{site}胸腔见无肺纹理透亮区，肺组织压缩约{pct}%。",
            "{site}气胸，肺组织压缩约{pct}%，纵隔未见明显移位。",
        ),
        "follow": ("{site}气胸较前减少，肺组织压缩约{pct}%（前片约{prev_pct}%）。",),
        "resolved": ("原{site}气胸已吸收，肺组织复张良好，现未见气胸。",),
        "imp": ("{site}气胸，肺组织压缩约{pct}%{chg}。",),
        "imp_resolved": ("{site}气胸已吸收。",),
    },
    en={
        "new": ("{site} pneumothorax with approximately {pct}% collapse of the lung.",),
        "follow": (
            "The {site} pneumothorax has decreased, now approximately {pct}% (previously {prev_pct}%).",
        ),
        "resolved": (
            "The {site} pneumothorax has resolved and the lung is re-expanded. No pneumothorax.",
        ),
        "imp": ("{site} pneumothorax, approximately {pct}%{chg}.",),
        "imp_resolved": ("Resolved {site} pneumothorax.",),
    },
    sites=S.ONE_SIDE,
    grades=(15, 60),
    acute=True,
    critical=True,
    recall=(1, 5),
    rank=0,
)

CARDIOMEGALY = Kind(
    "cardiomegaly",
    ("heart",),
    "chronic",
    3,
    zh={"new": ("心影增大，以左心室增大为主。", "心脏增大。"), "imp": ("心影增大{chg}。",)},
    en={"new": ("The heart is enlarged.", "Mild cardiomegaly."), "imp": ("Cardiomegaly{chg}.",)},
    min_age=40,
)

RIB_FRACTURE = Kind(
    "rib_fracture",
    ("bone",),
    "healing",
    2,
    zh={
        "new": ("{site}骨皮质不连续，断端轻度错位，考虑骨折。",),
        "healing": ("{site}骨折，骨折线较前模糊，周围见骨痂形成。",),
        "old": ("{site}陈旧性骨折。",),
        "imp": ("{site}骨折。",),
        "imp_healing": ("{site}骨折愈合中。",),
        "imp_old": ("{site}陈旧性骨折。",),
    },
    en={
        "new": ("Acute, minimally displaced fractures of the {site}.",),
        "healing": ("Healing fractures of the {site} with callus formation.",),
        "old": ("Old healed fractures of the {site}.",),
        "imp": ("Acute fractures of the {site}.",),
        "imp_healing": ("Healing fractures of the {site}.",),
        "imp_old": ("Old healed fractures of the {site}.",),
    },
    sites=S.RIBS,
    acute=True,
    recall=(28, 60),
    rank=1,
)

AORTIC_CALCIFICATION = Kind(
    "aortic_calcification",
    ("vessel",),
    "chronic",
    3,
    zh={
        "new": ("主动脉及冠状动脉壁见钙化斑块。",),
        "imp": ("主动脉及冠状动脉粥样硬化{chg}。",),
    },
    en={
        "new": ("Atherosclerotic calcifications of the aorta and coronary arteries.",),
        "imp": ("Aortic and coronary atherosclerosis{chg}.",),
    },
    min_age=50,
    rank=4,
)

CHEST_CT = Region(
    "chest_ct",
    (
        LUNG_NODULE,
        PLEURAL_EFFUSION,
        PNEUMONIA,
        EMPHYSEMA,
        INTERSTITIAL,
        GRANULOMA,
        ATELECTASIS,
        PNEUMOTHORAX,
        CARDIOMEGALY,
        RIB_FRACTURE,
        AORTIC_CALCIFICATION,
    ),
    (
        Normal(
            "lung",
            (
                "双肺纹理清晰，走行自然，肺野内未见明显实变及结节影。",
                "双肺纹理清晰，未见明显异常。",
            ),
            (
                "The lungs are clear without focal consolidation or suspicious nodule.",
                "No focal consolidation. No suspicious pulmonary nodule.",
            ),
        ),
        Normal("airway", ("气管及主支气管通畅。",), ("The central airways are patent.",)),
        Normal(
            "mediastinum",
            ("纵隔内未见肿大淋巴结。", "双肺门及纵隔未见明显肿大淋巴结。"),
            ("No mediastinal or hilar lymphadenopathy.",),
        ),
        Normal(
            "heart",
            ("心影不大。", "心脏大小形态未见异常，心包未见积液。"),
            ("Heart size is normal. No pericardial effusion.",),
        ),
        Normal("vessel", ("主动脉走行正常。",), ("The thoracic aorta is normal in caliber.",)),
        Normal(
            "pleura",
            ("双侧胸腔未见积液，未见气胸。", "双侧胸膜未见增厚，胸腔未见积液。"),
            ("No pleural effusion or pneumothorax.", "No pneumothorax or pleural effusion."),
        ),
        Normal("bone", ("所见骨质未见明显异常。",), ("No acute osseous abnormality.",)),
    ),
    (
        ("胸部CT平扫未见明显异常。", "双肺未见明显异常。"),
        ("No acute cardiopulmonary abnormality.", "Normal CT of the chest."),
    ),
    0.55,
    (
        ("咳嗽、咳痰", "cough"),
        ("发热待查", "fever"),
        ("胸痛", "chest pain"),
        ("体检", "screening"),
        ("胸闷、气短", "shortness of breath"),
    ),
)

# --------------------------------------------------------------------------------------
# Chest radiograph
# --------------------------------------------------------------------------------------

DR_NODULE = Kind(
    "nodule",
    ("lung",),
    "size",
    2,
    zh={
        "new": ("{site}见结节影，直径约{size}，边界尚清。",),
        "follow": ("{site}结节影，直径约{size}，{change}。",),
        "imp": ("{site}结节{chg}，{advice}。",),
    },
    en={
        "new": ("{size} nodular opacity in the {site}.",),
        "follow": ("The nodular opacity in the {site} measures {size}, {change}.",),
        "imp": ("Nodular opacity in the {site}{chg}; {advice}.",),
    },
    sites=S.ZONES,
    size=(8, 20),
    dims=1,
    trends=(("stable", 60), ("grow", 40)),
    advice=_fixed_advice(
        "建议胸部CT进一步检查", "CT of the chest is recommended for further evaluation", 30
    ),
    rank=2,
)

DR_PNEUMONIA = Kind(
    "pneumonia",
    ("lung",),
    "grade",
    8,
    zh={
        "new": ("{site}见斑片状模糊影。", "{site}见片状密度增高影，边缘模糊。"),
        "follow": ("{site}斑片影{change}。",),
        "resolved": ("原{site}斑片影已吸收。",),
        "imp": ("{site}炎症可能{chg}，请结合临床。", "{site}肺炎{chg}。"),
        "imp_resolved": ("{site}炎症已吸收。",),
        "better": ("较前吸收",),
        "worse": ("较前增多",),
    },
    en={
        "new": ("Patchy opacity in the {site}, possibly pneumonia.",),
        "follow": ("The opacity in the {site} is {change}.",),
        "resolved": ("Interval clearing of the opacity in the {site}.",),
        "imp": ("Possible pneumonia in the {site}{chg}.", "{site} airspace disease{chg}."),
        "imp_resolved": ("Resolved {site} opacity.",),
        "better": ("improved",),
        "worse": ("increased",),
    },
    sites=S.ZONES,
    max_grade=2,
    trends=(("better", 75), ("stable", 10), ("worse", 15)),
    acute=True,
    recall=(10, 30),
    rank=1,
)

DR_EFFUSION = Kind(
    "pleural_effusion",
    ("pleura",),
    "grade",
    4,
    zh={
        "new": ("{site}肋膈角变钝，考虑{amount}胸腔积液。",),
        "follow": ("{site}胸腔积液{change}。",),
        "resolved": ("{site}肋膈角已锐利，胸腔积液已吸收。",),
        "imp": ("{site}胸腔积液{chg}。",),
        "imp_resolved": ("{site}胸腔积液已吸收。",),
        "better": ("较前减少",),
        "worse": ("较前增多",),
    },
    en={
        "new": (
            "Blunting of the {site} costophrenic angle, consistent with a {amount} pleural effusion.",
        ),
        "follow": ("The {site} pleural effusion is {change}.",),
        "resolved": ("The {site} costophrenic angle is now sharp; the effusion has resolved.",),
        "imp": ("{amount} {site} pleural effusion{chg}.",),
        "imp_resolved": ("Resolved {site} pleural effusion.",),
        "better": ("decreased",),
        "worse": ("increased",),
    },
    sites=S.SIDES,
    max_grade=2,
    trends=(("better", 65), ("stable", 20), ("worse", 15)),
    acute=True,
    recall=(7, 30),
    rank=1,
)

DR_PNEUMOTHORAX = Kind(
    "pneumothorax",
    ("pleura",),
    "percent",
    0.6,
    zh={
        "new": ("{site}胸腔见无肺纹理透亮带，可见气胸线，肺组织压缩约{pct}%。",),
        "follow": ("{site}气胸较前减少，肺组织压缩约{pct}%（前片约{prev_pct}%）。",),
        "resolved": ("原{site}气胸已吸收，现未见气胸。",),
        "imp": ("{site}气胸（肺组织压缩约{pct}%）{chg}。",),
        "imp_resolved": ("{site}气胸已吸收。",),
    },
    en={
        "new": ("{site} pneumothorax with a visible pleural line, approximately {pct}%.",),
        "follow": (
            "The {site} pneumothorax is smaller, approximately {pct}% (previously {prev_pct}%).",
        ),
        "resolved": ("No residual {site} pneumothorax.",),
        "imp": ("{site} pneumothorax, approximately {pct}%{chg}.",),
        "imp_resolved": ("Resolved {site} pneumothorax.",),
    },
    sites=S.ONE_SIDE,
    grades=(15, 50),
    acute=True,
    critical=True,
    recall=(1, 5),
    rank=0,
)

DR_CARDIOMEGALY = Kind(
    "cardiomegaly",
    ("heart",),
    "chronic",
    4,
    zh={"new": ("心影增大，心胸比约{ratio}。",), "imp": ("心影增大{chg}。",)},
    en={
        "new": ("The heart is enlarged with a cardiothoracic ratio of {ratio}.",),
        "imp": ("Cardiomegaly{chg}.",),
    },
    max_grade=3,
    min_age=40,
    values=_ctr,
)

DR_EMPHYSEMA = Kind(
    "emphysema",
    ("lung",),
    "chronic",
    3,
    zh={"new": ("双肺透亮度增高，膈肌低平，肋间隙增宽。",), "imp": ("肺气肿{chg}。",)},
    en={
        "new": ("The lungs are hyperinflated with flattened hemidiaphragms.",),
        "imp": ("Hyperinflation, consistent with emphysema{chg}.",),
    },
    min_age=45,
)

DR_INTERSTITIAL = Kind(
    "interstitial",
    ("lung",),
    "chronic",
    4,
    zh={"new": ("双肺纹理增多、增粗、紊乱。",), "imp": ("双肺纹理增多，考虑慢性支气管炎{chg}。",)},
    en={
        "new": ("Diffusely increased interstitial markings.",),
        "imp": ("Chronic interstitial changes{chg}.",),
    },
    min_age=40,
)

DR_EDEMA = Kind(
    "pulmonary_edema",
    ("lung", "heart"),
    "grade",
    1.5,
    zh={
        "new": ("双肺门影增大、模糊，双肺纹理增多，呈蝶翼状分布，心影增大。",),
        "follow": ("肺淤血征象{change}。",),
        "resolved": ("原肺淤血征象已明显减轻。",),
        "imp": ("肺淤血、肺水肿{chg}，请结合临床。",),
        "imp_resolved": ("肺水肿较前吸收。",),
        "better": ("较前减轻",),
        "worse": ("较前加重",),
    },
    en={
        "new": (
            "Pulmonary vascular congestion with perihilar interstitial edema and cardiomegaly.",
        ),
        "follow": ("Pulmonary congestion is {change}.",),
        "resolved": ("Interval resolution of pulmonary edema.",),
        "imp": ("Pulmonary edema{chg}.", "Congestive heart failure with interstitial edema{chg}."),
        "imp_resolved": ("Resolved pulmonary edema.",),
        "better": ("improved",),
        "worse": ("worsened",),
    },
    max_grade=2,
    trends=(("better", 70), ("stable", 15), ("worse", 15)),
    acute=True,
    min_age=50,
    recall=(3, 14),
    rank=1,
)

DR_LOW_VOLUMES = Kind(
    "low_lung_volumes",
    ("diaphragm",),
    "grade",
    1.5,
    zh={
        "new": ("双肺容积减小，肺纹理聚拢，双膈面抬高。",),
        "resolved": ("双肺容积较前恢复。",),
        "imp": ("双肺容积减小{chg}。",),
    },
    en={
        "new": ("Low lung volumes with bronchovascular crowding.",),
        "resolved": ("Lung volumes have normalized.",),
        "imp": ("Low lung volumes{chg}.",),
    },
    max_grade=1,
    trends=(("better", 50), ("stable", 50)),
)

DR_GRANULOMA = Kind(
    "granuloma",
    ("lung",),
    "chronic",
    3,
    zh={"new": ("{site}见小结节状钙化灶。",), "imp": ("{site}钙化灶{chg}。",)},
    en={"new": ("Calcified granuloma in the {site}.",), "imp": ("Calcified granuloma{chg}.",)},
    sites=S.ZONES,
)

DR_SCOLIOSIS = Kind(
    "scoliosis",
    ("bone",),
    "chronic",
    1.5,
    zh={"new": ("胸椎轻度侧弯。",), "imp": ("胸椎侧弯{chg}。",)},
    en={"new": ("Mild thoracic scoliosis.",), "imp": ("Scoliosis{chg}.",)},
    rank=4,
)

DR_RIB_FRACTURE = Kind(
    "rib_fracture",
    ("bone",),
    "healing",
    1.2,
    zh={
        "new": ("{site}骨质不连续，考虑骨折。",),
        "healing": ("{site}骨折处见骨痂形成。",),
        "old": ("{site}陈旧性骨折。",),
        "imp": ("{site}骨折。",),
        "imp_healing": ("{site}骨折愈合中。",),
        "imp_old": ("{site}陈旧性骨折。",),
    },
    en={
        "new": ("Fractures of the {site}.",),
        "healing": ("Callus formation at the fractures of the {site}.",),
        "old": ("Old healed fractures of the {site}.",),
        "imp": ("Fractures of the {site}.",),
        "imp_healing": ("Healing fractures of the {site}.",),
        "imp_old": ("Old fractures of the {site}.",),
    },
    sites=S.RIBS,
    acute=True,
    recall=(28, 60),
    rank=1,
)

DR_AORTA = Kind(
    "aortic_calcification",
    ("vessel",),
    "chronic",
    3,
    zh={"new": ("主动脉结突出，可见弧形钙化。",), "imp": ("主动脉硬化{chg}。",)},
    en={
        "new": ("The aortic knob is unfolded and calcified.",),
        "imp": ("Aortic atherosclerosis{chg}.",),
    },
    min_age=55,
    rank=4,
)

CHEST_DR = Region(
    "chest_dr",
    (
        DR_PNEUMONIA,
        DR_EFFUSION,
        DR_PNEUMOTHORAX,
        DR_CARDIOMEGALY,
        DR_NODULE,
        DR_EMPHYSEMA,
        DR_INTERSTITIAL,
        DR_EDEMA,
        DR_LOW_VOLUMES,
        DR_GRANULOMA,
        DR_SCOLIOSIS,
        DR_RIB_FRACTURE,
        DR_AORTA,
    ),
    (
        Normal(
            "lung",
            ("双肺纹理清晰，未见明显实变影。", "双肺野清晰，未见异常密度影。"),
            ("The lungs are clear.", "No focal consolidation."),
        ),
        Normal(
            "heart",
            ("心影大小形态正常。", "心影不大。"),
            ("The cardiomediastinal silhouette is within normal limits.",),
        ),
        Normal("vessel", ("主动脉未见异常。",), ("The aorta is unremarkable.",)),
        Normal(
            "pleura",
            ("双侧肋膈角锐利，未见气胸。",),
            ("No pleural effusion or pneumothorax.",),
        ),
        Normal("diaphragm", ("双膈面光整。",), ("The hemidiaphragms are well defined.",)),
        Normal("bone", ("所见骨质未见明显异常。",), ("No acute osseous abnormality.",)),
    ),
    (
        ("心肺膈未见明显异常。", "胸部正位片未见明显异常。"),
        ("No acute cardiopulmonary process.", "Normal chest radiograph."),
    ),
    0.4,
    (("咳嗽", "cough"), ("体检", "routine check"), ("发热", "fever"), ("术前检查", "pre-op")),
)

# --------------------------------------------------------------------------------------
# Brain CT
# --------------------------------------------------------------------------------------

LACUNAR_CT = Kind(
    "lacunar_infarct",
    ("parenchyma",),
    "chronic",
    7,
    zh={
        "new": ("{site}见多发斑点状低密度灶，边界清楚。", "{site}见小斑片状低密度影，边界清。"),
        "imp": ("{site}腔隙性脑梗死{chg}。", "{site}多发腔隙灶{chg}。"),
    },
    en={
        "new": (
            "Multiple small well-defined hypodensities in the {site}, consistent with old lacunar infarcts.",
        ),
        "imp": ("Chronic lacunar infarcts in the {site}{chg}.",),
    },
    sites=S.LACUNAR,
    min_age=50,
)

INFARCT_CT = Kind(
    "infarct",
    ("parenchyma",),
    "healing",
    4,
    zh={
        "new": (
            "{site}见片状稍低密度影，边界欠清，灰白质分界模糊，考虑急性脑梗死可能。",
            "{site}见大片状低密度影，累及皮层及皮层下，考虑脑梗死。",
        ),
        "healing": ("{site}低密度影较前清晰，考虑亚急性期脑梗死。",),
        "old": ("{site}见片状低密度软化灶，边界清楚。",),
        "imp": ("{site}急性脑梗死可能，建议头颅MR+DWI检查。", "{site}脑梗死。"),
        "imp_healing": ("{site}亚急性期脑梗死。",),
        "imp_old": ("{site}陈旧性脑梗死，软化灶形成。",),
    },
    en={
        "new": (
            "Ill-defined hypodensity in the {site} with loss of gray-white differentiation, concerning for acute infarct.",
        ),
        "healing": (
            "The hypodensity in the {site} is better defined, consistent with a subacute infarct.",
        ),
        "old": ("Encephalomalacia in the {site} from a prior infarct.",),
        "imp": ("Possible acute infarct in the {site}; MRI with DWI is recommended.",),
        "imp_healing": ("Subacute infarct in the {site}.",),
        "imp_old": ("Chronic infarct in the {site}.",),
    },
    sites=S.BRAIN_LOBAR,
    acute=True,
    min_age=40,
    recall=(3, 30),
    rank=1,
)

HEMORRHAGE_CT = Kind(
    "hemorrhage",
    ("parenchyma", "midline", "hemorrhage"),
    "size",
    1.2,
    zh={
        "new": (
            "{site}见团块状高密度影，大小约{size}，CT值约65HU，周围见低密度水肿带。{shift}",
            "{site}见类圆形高密度出血灶，大小约{size}，周围见水肿带。{shift}",
        ),
        "follow": ("{site}血肿{change}，现大小约{size}，密度减低，周围水肿带较前减轻。{shift}",),
        "resolved": ("原{site}血肿已吸收，局部见软化灶形成，未见新鲜出血。",),
        "imp": ("{site}脑出血{chg}。", "{site}脑内血肿{chg}，请结合临床。"),
        "imp_resolved": ("{site}脑出血吸收期，软化灶形成。",),
    },
    en={
        "new": (
            "Acute intraparenchymal hemorrhage in the {site} measuring {size} with surrounding edema. {shift}",
        ),
        "follow": (
            "The {site} hematoma now measures {size}, {change}, with decreasing density. {shift}",
        ),
        "resolved": (
            "The previously seen {site} hematoma has resolved with residual encephalomalacia. No new hemorrhage.",
        ),
        "imp": ("Acute intraparenchymal hemorrhage in the {site}{chg}.",),
        "imp_resolved": ("Resolved {site} hemorrhage with encephalomalacia.",),
    },
    sites=S.BRAIN_HEMORRHAGE,
    size=(12, 42),
    trends=(("absorb", 1),),
    acute=True,
    critical=True,
    min_age=30,
    recall=(2, 10),
    values=_midline_shift,
    rank=0,
)

ATROPHY_CT = Kind(
    "atrophy",
    ("ventricles",),
    "chronic",
    5,
    zh={
        "new": ("脑沟、脑裂增宽、加深，脑室系统扩大。",),
        "imp": ("脑萎缩{chg}。", "老年性脑改变{chg}。"),
    },
    en={
        "new": ("Generalized prominence of the sulci and ventricles.",),
        "imp": ("Age-related cerebral atrophy{chg}.",),
    },
    min_age=60,
    rank=4,
)

WHITE_MATTER_CT = Kind(
    "white_matter",
    ("white_matter",),
    "chronic",
    5,
    zh={
        "new": ("双侧侧脑室旁白质见斑片状低密度影，边界模糊。",),
        "imp": ("脑白质变性{chg}。", "脑白质疏松{chg}，考虑小血管病。"),
        "worse": ("范围较前增大",),
    },
    en={
        "new": ("Patchy periventricular white matter hypodensities.",),
        "imp": ("Chronic small vessel ischemic changes{chg}.",),
        "worse": ("increased in extent",),
    },
    trends=(("stable", 80), ("worse", 20)),
    min_age=50,
    rank=4,
)

HEAD_CT = Region(
    "head_ct",
    (LACUNAR_CT, INFARCT_CT, HEMORRHAGE_CT, ATROPHY_CT, WHITE_MATTER_CT),
    (
        Normal(
            "parenchyma",
            ("脑实质密度均匀，灰白质分界清楚，未见异常密度影。", "脑实质内未见明显梗死灶。"),
            ("Gray-white matter differentiation is preserved. No acute infarct.",),
        ),
        Normal(
            "hemorrhage",
            ("颅内未见明显出血。", "颅内未见出血征象。"),
            ("No acute intracranial hemorrhage.", "No intracranial hemorrhage."),
        ),
        Normal(
            "white_matter",
            ("脑白质未见异常密度。",),
            ("The white matter is unremarkable.",),
        ),
        Normal(
            "ventricles",
            ("脑室系统未见扩张，脑沟、脑裂未见增宽。",),
            ("The ventricles and sulci are normal in size.",),
        ),
        Normal("midline", ("中线结构居中。",), ("No mass effect or midline shift.",)),
        Normal("bone", ("颅骨骨质未见异常。",), ("The calvarium is intact.",)),
    ),
    (
        ("颅脑CT平扫未见明显异常。", "颅内未见明显异常。"),
        ("No acute intracranial abnormality.", "Normal noncontrast CT of the head."),
    ),
    0.45,
    (
        ("头晕", "dizziness"),
        ("头痛", "headache"),
        ("外伤后", "head trauma"),
        ("肢体无力", "weakness"),
    ),
)

# --------------------------------------------------------------------------------------
# Brain MR
# --------------------------------------------------------------------------------------

LACUNAR_MR = Kind(
    "lacunar_infarct",
    ("parenchyma",),
    "chronic",
    7,
    zh={
        "new": ("{site}见多发斑点状长T1长T2信号，FLAIR呈低信号，DWI未见弥散受限。",),
        "imp": ("{site}多发腔隙灶（陈旧性）{chg}。", "{site}腔隙性脑梗死{chg}。"),
    },
    en={
        "new": (
            "Multiple small T2 hyperintense foci in the {site} without restricted diffusion, consistent with chronic lacunes.",
        ),
        "imp": ("Chronic lacunar infarcts in the {site}{chg}.",),
    },
    sites=S.LACUNAR,
    min_age=45,
)

ACUTE_INFARCT_MR = Kind(
    "infarct",
    ("parenchyma", "dwi"),
    "healing",
    4,
    zh={
        "new": ("{site}见斑片状长T2信号，DWI呈高信号，ADC值减低，考虑急性脑梗死。",),
        "healing": ("{site}梗死灶DWI信号较前减低，考虑亚急性期。",),
        "old": ("{site}见软化灶形成，周围见胶质增生。",),
        "imp": ("{site}急性脑梗死。",),
        "imp_healing": ("{site}亚急性期脑梗死。",),
        "imp_old": ("{site}陈旧性脑梗死。",),
    },
    en={
        "new": ("Restricted diffusion in the {site}, consistent with acute infarct.",),
        "healing": ("Evolving infarct in the {site} with decreasing diffusion restriction.",),
        "old": ("Chronic infarct in the {site} with encephalomalacia and gliosis.",),
        "imp": ("Acute infarct in the {site}.",),
        "imp_healing": ("Subacute infarct in the {site}.",),
        "imp_old": ("Chronic infarct in the {site}.",),
    },
    sites=S.BRAIN_LOBAR,
    acute=True,
    min_age=40,
    recall=(5, 30),
    rank=1,
)

WHITE_MATTER_MR = Kind(
    "white_matter",
    ("white_matter",),
    "chronic",
    7,
    zh={
        "new": (
            "双侧侧脑室旁及半卵圆中心见斑点、斑片状长T2信号，FLAIR呈高信号（Fazekas {grade}级）。",
        ),
        "imp": ("脑白质高信号（Fazekas {grade}级），考虑小血管病{chg}。", "脑白质变性{chg}。"),
        "worse": ("较前增多",),
    },
    en={
        "new": (
            "Scattered T2/FLAIR white matter hyperintensities in the periventricular and deep white matter (Fazekas grade {grade}).",
        ),
        "imp": (
            "White matter hyperintensities, Fazekas {grade}, likely chronic small vessel disease{chg}.",
        ),
        "worse": ("increased",),
    },
    grades=(1, 2),
    trends=(("stable", 75), ("worse", 25)),
    min_age=45,
    rank=4,
)

ATROPHY_MR = Kind(
    "atrophy",
    ("ventricles",),
    "chronic",
    4,
    zh={"new": ("脑沟、脑裂增宽，脑室系统扩大。",), "imp": ("脑萎缩{chg}。",)},
    en={
        "new": ("Prominent sulci and ventricles.",),
        "imp": ("Mild generalized cerebral atrophy{chg}.",),
    },
    min_age=60,
    rank=4,
)

MENINGIOMA = Kind(
    "meningioma",
    ("extra_axial",),
    "size",
    1.5,
    zh={
        "new": (
            "{site}见类圆形等T1等T2信号影，大小约{size}，增强扫描明显均匀强化，可见脑膜尾征。",
        ),
        "follow": ("{site}脑膜瘤，大小约{size}，{change}。",),
        "imp": ("{site}脑膜瘤可能{chg}，{advice}。",),
    },
    en={
        "new": ("A {size} extra-axial enhancing mass along the {site} with a dural tail.",),
        "follow": ("The extra-axial mass along the {site} measures {size}, {change}.",),
        "imp": ("Probable meningioma along the {site}{chg}; {advice}.",),
    },
    sites=S.MENINGES,
    size=(8, 28),
    trends=(("stable", 70), ("grow", 30)),
    min_age=30,
    advice=_fixed_advice("建议定期复查", "follow-up MRI in 12 months", 365),
    rank=2,
)

HEAD_MR = Region(
    "head_mr",
    (LACUNAR_MR, ACUTE_INFARCT_MR, WHITE_MATTER_MR, ATROPHY_MR, MENINGIOMA),
    (
        Normal(
            "parenchyma",
            ("脑实质内未见异常信号影。", "脑实质信号均匀，灰白质分界清楚。"),
            ("No abnormal signal in the brain parenchyma.",),
        ),
        Normal(
            "dwi", ("DWI未见弥散受限。",), ("No restricted diffusion to suggest acute infarct.",)
        ),
        Normal("white_matter", ("脑白质未见异常信号。",), ("The white matter is unremarkable.",)),
        Normal("ventricles", ("脑室系统未见扩张。",), ("The ventricles are normal in size.",)),
        Normal("extra_axial", ("脑外间隙未见异常。",), ("No extra-axial collection or mass.",)),
        Normal("midline", ("中线结构居中。",), ("No midline shift.",)),
    ),
    (
        ("颅脑MR平扫未见明显异常。", "头颅MR平扫未见明显异常。"),
        ("Unremarkable MRI of the brain.", "No acute intracranial abnormality."),
    ),
    0.55,
    (
        ("头晕", "dizziness"),
        ("头痛", "headache"),
        ("记忆力下降", "memory loss"),
        ("肢体麻木", "numbness"),
    ),
)

# --------------------------------------------------------------------------------------
# Abdomen CT
# --------------------------------------------------------------------------------------

FATTY_LIVER_CT = Kind(
    "fatty_liver",
    ("liver_diffuse",),
    "grade",
    7,
    zh={
        "new": ("肝实质密度弥漫性减低，低于脾脏密度。",),
        "imp": ("{amount}脂肪肝{chg}。",),
        "resolved": ("肝实质密度较前恢复正常。",),
        "better": ("较前减轻",),
        "worse": ("较前加重",),
    },
    en={
        "new": (
            "Diffuse hepatic hypoattenuation relative to the spleen, consistent with {amount} steatosis.",
        ),
        "imp": ("{amount} hepatic steatosis{chg}.",),
        "resolved": ("Hepatic attenuation has normalized.",),
        "better": ("improved",),
        "worse": ("worsened",),
    },
    amounts=SEVERITY,
    grades=(1, 2),
    trends=(("stable", 70), ("better", 15), ("worse", 15)),
    min_age=18,
    rank=4,
)

LIVER_CYST_CT = Kind(
    "liver_cyst",
    ("liver",),
    "size",
    6,
    zh={
        "new": ("{site}见类圆形低密度灶，大小约{size}，边界清楚，增强扫描未见强化。",),
        "follow": ("{site}囊性低密度灶，大小约{size}，{change}。",),
        "imp": ("{site}囊肿{chg}。", "肝囊肿{chg}。"),
    },
    en={
        "new": ("{size} simple cyst in the {site} without enhancement.",),
        "follow": ("The simple cyst in the {site} measures {size}, {change}.",),
        "imp": ("Simple hepatic cyst{chg}.",),
    },
    sites=S.LIVER,
    size=(5, 35),
    trends=(("stable", 80), ("grow", 20)),
    min_age=20,
)

HEMANGIOMA_CT = Kind(
    "hemangioma",
    ("liver",),
    "size",
    3,
    zh={
        "new": (
            "{site}见类圆形低密度灶，大小约{size}，增强扫描动脉期边缘结节状强化，延迟期向心性填充。",
        ),
        "imp": ("{site}血管瘤{chg}。",),
    },
    en={
        "new": (
            "{size} lesion in the {site} with peripheral nodular enhancement and centripetal fill-in.",
        ),
        "imp": ("Hemangioma in the {site}{chg}.",),
    },
    sites=S.LIVER,
    size=(8, 30),
    min_age=20,
    modalities=CT,
)

LIVER_MASS_CT = Kind(
    "liver_mass",
    ("liver",),
    "size",
    0.8,
    zh={
        "new": (
            "{site}见团块状稍低密度影，大小约{size}，增强扫描动脉期明显不均匀强化，门脉期及延迟期廓清。",
        ),
        "follow": ("{site}占位{change}，现大小约{size}。",),
        "imp": ("{site}占位性病变，考虑肝细胞癌可能{chg}，{advice}。",),
    },
    en={
        "new": (
            "{size} arterially enhancing mass in the {site} with washout, suspicious for hepatocellular carcinoma.",
        ),
        "follow": ("The {site} mass now measures {size}, {change}.",),
        "imp": (
            "Suspicious mass in the {site}{chg}; hepatocellular carcinoma cannot be excluded; {advice}.",
        ),
    },
    sites=S.LIVER,
    size=(20, 55),
    trends=(("grow", 85), ("stable", 15)),
    min_age=40,
    advice=_fixed_advice(
        "建议MR增强检查并结合AFP", "recommend contrast MRI and AFP correlation", 45
    ),
    rank=1,
)

GALLSTONE_CT = Kind(
    "gallstone",
    ("gallbladder",),
    "size",
    5,
    zh={"new": ("胆囊内见结节状高密度影，直径约{size}。",), "imp": ("胆囊结石{chg}。",)},
    en={
        "new": ("{size} calcified gallstone. No gallbladder wall thickening.",),
        "imp": ("Cholelithiasis without evidence of acute cholecystitis{chg}.",),
    },
    size=(4, 20),
    dims=1,
    min_age=20,
)

KIDNEY_STONE_CT = Kind(
    "kidney_stone",
    ("kidney",),
    "size",
    5,
    zh={
        "new": (
            "{site}盂内见结节状高密度影，直径约{size}。",
            "{site}下极见点状高密度影，大小约{size}。",
        ),
        "resolved": ("原{site}结石现未见显示。",),
        "imp": ("{site}结石{chg}。",),
        "imp_resolved": ("{site}结石已排出。",),
    },
    en={
        "new": ("{size} nonobstructing calculus in the {site}.",),
        "resolved": ("The previously seen calculus in the {site} is no longer visualized.",),
        "imp": ("Nephrolithiasis, {site}{chg}.",),
        "imp_resolved": ("Interval passage of the {site} calculus.",),
    },
    sites=S.KIDNEYS,
    size=(3, 12),
    dims=1,
    trends=(("stable", 55), ("resolve", 30), ("grow", 15)),
    acute=True,
    min_age=16,
    recall=(30, 90),
    growth=1,
)

HYDRONEPHROSIS_CT = Kind(
    "hydronephrosis",
    ("kidney",),
    "grade",
    3,
    zh={
        "new": ("{site}盂、肾盏扩张积水，输尿管上段扩张。",),
        "follow": ("{site}积水{change}。",),
        "resolved": ("{site}积水已消失。",),
        "imp": ("{site}{amount}积水{chg}。",),
        "imp_resolved": ("{site}积水已消失。",),
        "better": ("较前减轻",),
        "worse": ("较前加重",),
    },
    en={
        "new": ("{amount} hydronephrosis of the {site} with proximal ureteral dilatation.",),
        "follow": ("Hydronephrosis of the {site} is {change}.",),
        "resolved": ("Resolved hydronephrosis of the {site}.",),
        "imp": ("{amount} hydronephrosis of the {site}{chg}.",),
        "imp_resolved": ("Resolved hydronephrosis of the {site}.",),
        "better": ("improved",),
        "worse": ("worsened",),
    },
    sites=S.KIDNEYS,
    amounts=SEVERITY,
    max_grade=2,
    trends=(("better", 70), ("stable", 20), ("worse", 10)),
    acute=True,
    recall=(14, 45),
    rank=1,
)

RENAL_CYST_CT = Kind(
    "renal_cyst",
    ("kidney",),
    "size",
    4,
    zh={
        "new": ("{site}见类圆形低密度灶，大小约{size}，边界清楚。",),
        "imp": ("{site}囊肿{chg}。",),
    },
    en={
        "new": ("{size} simple cyst in the {site}.",),
        "imp": ("Simple cyst of the {site} (Bosniak I){chg}.",),
    },
    sites=S.KIDNEYS,
    size=(6, 40),
    trends=(("stable", 85), ("grow", 15)),
    min_age=30,
)

FREE_FLUID_CT = Kind(
    "free_fluid",
    ("peritoneum",),
    "grade",
    2.5,
    zh={
        "new": ("腹盆腔见{amount}液体密度影。",),
        "follow": ("腹腔积液{change}。",),
        "resolved": ("腹腔积液已吸收。",),
        "imp": ("腹腔{amount}积液{chg}。",),
        "imp_resolved": ("腹腔积液已吸收。",),
        "better": ("较前减少",),
        "worse": ("较前增多",),
    },
    en={
        "new": ("{amount} volume of free fluid in the abdomen and pelvis.",),
        "follow": ("Free fluid is {change}.",),
        "resolved": ("No residual free fluid.",),
        "imp": ("{amount} ascites{chg}.",),
        "imp_resolved": ("Resolved ascites.",),
        "better": ("decreased",),
        "worse": ("increased",),
    },
    grades=(1, 2),
    trends=(("better", 60), ("stable", 20), ("worse", 20)),
    acute=True,
    recall=(7, 30),
    rank=1,
)

ABD_CT = Region(
    "abd_ct",
    (
        FATTY_LIVER_CT,
        LIVER_CYST_CT,
        HEMANGIOMA_CT,
        LIVER_MASS_CT,
        GALLSTONE_CT,
        KIDNEY_STONE_CT,
        HYDRONEPHROSIS_CT,
        RENAL_CYST_CT,
        FREE_FLUID_CT,
    ),
    (
        Normal(
            "liver_diffuse",
            ("肝脏大小形态正常，实质密度均匀。",),
            ("The liver is normal in size and attenuation.",),
        ),
        Normal("liver", ("肝内未见异常密度灶。",), ("No focal hepatic lesion.",)),
        Normal(
            "gallbladder",
            ("胆囊不大，壁不厚，腔内未见异常密度影。",),
            ("The gallbladder is unremarkable; no gallstones.",),
        ),
        Normal(
            "pancreas_spleen",
            ("胰腺、脾脏形态密度未见异常。",),
            ("The pancreas and spleen are unremarkable.",),
        ),
        Normal(
            "kidney",
            ("双肾形态大小正常，未见结石及积水。",),
            ("No renal calculi or hydronephrosis.",),
        ),
        Normal("bladder", ("膀胱充盈可，壁光滑。",), ("The urinary bladder is unremarkable.",)),
        Normal(
            "peritoneum",
            ("腹腔内未见积液及肿大淋巴结。",),
            ("No free fluid or lymphadenopathy.",),
        ),
    ),
    (
        ("腹部CT未见明显异常。", "所见腹部脏器未见明显异常。"),
        ("No acute abdominal abnormality.", "Unremarkable CT of the abdomen."),
    ),
    0.5,
    (
        ("腹痛待查", "abdominal pain"),
        ("体检发现肝占位", "liver lesion on screening"),
        ("腰痛", "flank pain"),
    ),
)

# --------------------------------------------------------------------------------------
# Abdomen ultrasound
# --------------------------------------------------------------------------------------

FATTY_LIVER_US = Kind(
    "fatty_liver",
    ("liver_diffuse",),
    "grade",
    12,
    zh={
        "new": ("肝脏形态饱满，实质回声增强、细密，后方回声衰减。",),
        "resolved": ("肝实质回声较前恢复均匀。",),
        "imp": ("{amount}脂肪肝{chg}。",),
        "better": ("较前减轻",),
        "worse": ("较前加重",),
    },
    en={
        "new": (
            "Increased hepatic echogenicity with posterior attenuation, consistent with {amount} fatty infiltration.",
        ),
        "resolved": ("Normal hepatic echogenicity.",),
        "imp": ("{amount} fatty liver{chg}.",),
        "better": ("improved",),
        "worse": ("worsened",),
    },
    amounts=SEVERITY,
    grades=(1, 2),
    trends=(("stable", 70), ("better", 15), ("worse", 15)),
    min_age=16,
    rank=4,
)

LIVER_CYST_US = Kind(
    "liver_cyst",
    ("liver",),
    "size",
    6,
    zh={
        "new": ("{site}见无回声区，大小约{size}，边界清，后方回声增强。",),
        "follow": ("{site}无回声区，大小约{size}，{change}。",),
        "imp": ("{site}囊肿{chg}。", "肝囊肿{chg}。"),
    },
    en={
        "new": (
            "Anechoic cyst in the {site} measuring {size} with posterior acoustic enhancement.",
        ),
        "follow": ("The cyst in the {site} measures {size}, {change}.",),
        "imp": ("Simple hepatic cyst{chg}.",),
    },
    sites=S.LIVER,
    size=(5, 35),
    trends=(("stable", 80), ("grow", 20)),
    min_age=20,
)

HEMANGIOMA_US = Kind(
    "hemangioma",
    ("liver",),
    "size",
    3,
    zh={
        "new": ("{site}见高回声结节，大小约{size}，边界清，内部回声呈网状。",),
        "imp": ("{site}高回声结节，血管瘤可能{chg}。",),
    },
    en={
        "new": ("Well-defined hyperechoic lesion in the {site}, {size}.",),
        "imp": ("Hyperechoic lesion in the {site}, likely hemangioma{chg}.",),
    },
    sites=S.LIVER,
    size=(6, 25),
    min_age=20,
)

GALLSTONE_US = Kind(
    "gallstone",
    ("gallbladder",),
    "size",
    7,
    zh={
        "new": ("胆囊腔内见强回声团，大小约{size}，后伴声影，可随体位移动。",),
        "imp": ("胆囊结石{chg}。",),
    },
    en={
        "new": (
            "Mobile echogenic focus with posterior shadowing in the gallbladder, {size}, consistent with a gallstone.",
        ),
        "imp": ("Cholelithiasis{chg}.",),
    },
    size=(4, 20),
    dims=1,
    min_age=20,
)

GB_POLYP_US = Kind(
    "gallbladder_polyp",
    ("gallbladder",),
    "size",
    4,
    zh={
        "new": ("胆囊壁见附壁中等回声，大小约{size}，后方无声影，不随体位移动。",),
        "follow": ("胆囊壁附壁结节，大小约{size}，{change}。",),
        "imp": ("胆囊息肉{chg}。",),
    },
    en={
        "new": ("Nonmobile {size} polyp along the gallbladder wall.",),
        "follow": ("The gallbladder polyp measures {size}, {change}.",),
        "imp": ("Gallbladder polyp{chg}.",),
    },
    size=(3, 9),
    dims=1,
    trends=(("stable", 75), ("grow", 25)),
    min_age=18,
)

KIDNEY_STONE_US = Kind(
    "kidney_stone",
    ("kidney",),
    "size",
    5,
    zh={
        "new": ("{site}内见强回声，大小约{size}，后伴声影。",),
        "resolved": ("原{site}结石现未见显示。",),
        "imp": ("{site}结石{chg}。",),
        "imp_resolved": ("{site}结石已排出。",),
    },
    en={
        "new": ("Echogenic shadowing focus in the {site}, {size}, consistent with a calculus.",),
        "resolved": ("The previously seen calculus in the {site} is no longer seen.",),
        "imp": ("Nephrolithiasis, {site}{chg}.",),
        "imp_resolved": ("Interval passage of the {site} calculus.",),
    },
    sites=S.KIDNEYS,
    size=(3, 12),
    dims=1,
    trends=(("stable", 55), ("resolve", 30), ("grow", 15)),
    acute=True,
    min_age=16,
    recall=(30, 90),
    growth=1,
)

HYDRONEPHROSIS_US = Kind(
    "hydronephrosis",
    ("kidney",),
    "grade",
    3,
    zh={
        "new": ("{site}集合系统分离约{sep}mm。",),
        "follow": ("{site}集合系统分离{change}，现约{sep}mm。",),
        "resolved": ("{site}集合系统未见分离。",),
        "imp": ("{site}{amount}积水{chg}。",),
        "imp_resolved": ("{site}积水已消失。",),
        "better": ("较前减轻",),
        "worse": ("较前加重",),
    },
    en={
        "new": ("Separation of the collecting system of the {site}, {sep} mm.",),
        "follow": ("Collecting system dilatation of the {site} is {change}, now {sep} mm.",),
        "resolved": ("No hydronephrosis of the {site}.",),
        "imp": ("{amount} hydronephrosis of the {site}{chg}.",),
        "imp_resolved": ("Resolved hydronephrosis of the {site}.",),
        "better": ("improved",),
        "worse": ("worsened",),
    },
    sites=S.KIDNEYS,
    amounts=SEVERITY,
    max_grade=2,
    trends=(("better", 70), ("stable", 20), ("worse", 10)),
    acute=True,
    recall=(14, 45),
    values=_pelvis_sep,
    rank=1,
)

RENAL_CYST_US = Kind(
    "renal_cyst",
    ("kidney",),
    "size",
    4,
    zh={"new": ("{site}见无回声区，大小约{size}，边界清。",), "imp": ("{site}囊肿{chg}。",)},
    en={
        "new": ("Simple cyst in the {site}, {size}.",),
        "imp": ("Simple cyst of the {site}{chg}.",),
    },
    sites=S.KIDNEYS,
    size=(6, 40),
    trends=(("stable", 85), ("grow", 15)),
    min_age=30,
)

FREE_FLUID_US = Kind(
    "free_fluid",
    ("peritoneum",),
    "grade",
    2,
    zh={
        "new": ("肝肾间隙及盆腔见液性暗区，最深约{depth}mm。",),
        "follow": ("腹腔液性暗区{change}，最深约{depth}mm。",),
        "resolved": ("腹腔未见明显液性暗区。",),
        "imp": ("腹腔积液{chg}。", "腹盆腔{amount}积液{chg}。"),
        "imp_resolved": ("腹腔积液已吸收。",),
        "better": ("较前减少",),
        "worse": ("较前增多",),
    },
    en={
        "new": ("Free fluid in the hepatorenal space and pelvis, maximal depth {depth} mm.",),
        "follow": ("Free fluid is {change}, maximal depth {depth} mm.",),
        "resolved": ("No free fluid.",),
        "imp": ("{amount} free fluid{chg}.",),
        "imp_resolved": ("Resolved free fluid.",),
        "better": ("decreased",),
        "worse": ("increased",),
    },
    grades=(1, 2),
    trends=(("better", 60), ("stable", 20), ("worse", 20)),
    acute=True,
    recall=(7, 30),
    values=_fluid_depth,
    rank=1,
)

ABD_US = Region(
    "abd_us",
    (
        FATTY_LIVER_US,
        LIVER_CYST_US,
        HEMANGIOMA_US,
        GALLSTONE_US,
        GB_POLYP_US,
        KIDNEY_STONE_US,
        HYDRONEPHROSIS_US,
        RENAL_CYST_US,
        FREE_FLUID_US,
    ),
    (
        Normal(
            "liver_diffuse",
            ("肝脏大小形态正常，包膜光滑，实质回声均匀。",),
            ("The liver is normal in size and echotexture.",),
        ),
        Normal("liver", ("肝内未见明显占位。",), ("No focal hepatic lesion.",)),
        Normal(
            "gallbladder",
            ("胆囊大小正常，壁光滑，腔内未见异常回声。",),
            ("The gallbladder is normal without stones or wall thickening.",),
        ),
        Normal(
            "pancreas_spleen",
            ("胰腺、脾脏未见明显异常。",),
            ("The pancreas and spleen are unremarkable.",),
        ),
        Normal(
            "kidney",
            ("双肾大小形态正常，集合系统未见分离。",),
            ("Both kidneys are normal in size; no hydronephrosis or calculi.",),
        ),
        Normal(
            "bladder",
            ("膀胱充盈良好，壁光滑，腔内未见异常回声。",),
            ("The urinary bladder is unremarkable.",),
        ),
        Normal("peritoneum", ("腹腔未见明显积液。",), ("No free fluid.",)),
    ),
    (
        ("所检脏器未见明显异常。", "{item}未见明显异常。"),
        ("Normal abdominal ultrasound.", "No sonographic abnormality."),
    ),
    0.5,
    (("体检", "health check"), ("腹痛", "abdominal pain"), ("腰痛", "flank pain")),
)

# --------------------------------------------------------------------------------------
# Spine (lumbar / cervical)
# --------------------------------------------------------------------------------------

DISC_DIRECTIONS = (
    ("后方", "central"),
    ("左后方", "left paracentral"),
    ("右后方", "right paracentral"),
)


def _spine_kinds(levels: S.Sites, lumbar: bool) -> tuple[Kind, ...]:
    kinds = [
        Kind(
            "spine_degeneration",
            ("bone",),
            "chronic",
            10,
            zh={
                "new": (
                    "{region}生理曲度变直，诸椎体边缘见骨质增生，部分呈唇样变。",
                    "{region}椎体边缘骨质增生，椎小关节增生硬化。",
                ),
                "imp": ("{region}退行性变{chg}。", "{region}骨质增生{chg}。"),
                "worse": ("较前加重",),
            },
            en={
                "new": (
                    "Multilevel degenerative changes of the {region} spine with marginal osteophytes.",
                ),
                "imp": ("{region} spondylosis{chg}.",),
                "worse": ("progressed",),
            },
            trends=(("stable", 85), ("worse", 15)),
            min_age=35,
            rank=4,
        ),
        Kind(
            "disc_herniation",
            ("disc",),
            "chronic",
            9,
            zh={
                "new": (
                    "{site}椎间盘向{extra}突出，硬膜囊受压。",
                    "{site}椎间盘{extra}突出，相应神经根受压。",
                ),
                "imp": ("{site}椎间盘突出{chg}。",),
                "worse": ("突出程度较前加重",),
            },
            en={
                "new": ("{site} {extra} disc protrusion indenting the thecal sac.",),
                "imp": ("Disc protrusion at {site}{chg}.",),
                "worse": ("increased",),
            },
            sites=levels,
            extras=DISC_DIRECTIONS,
            trends=(("stable", 85), ("worse", 15)),
            min_age=18,
            modalities=CT_MR,
            recall=(90, 365),
            rank=2,
        ),
        Kind(
            "disc_bulge",
            ("disc",),
            "chronic",
            6,
            zh={"new": ("{site}椎间盘膨出。",), "imp": ("{site}椎间盘膨出{chg}。",)},
            en={"new": ("Mild disc bulge at {site}.",), "imp": ("Disc bulge at {site}{chg}.",)},
            sites=levels,
            min_age=18,
            modalities=CT_MR,
        ),
        Kind(
            "canal_stenosis",
            ("canal",),
            "chronic",
            3,
            zh={
                "new": ("{site}水平椎管狭窄，硬膜囊受压变扁。",),
                "imp": ("{site}水平椎管狭窄{chg}。",),
            },
            en={
                "new": ("Moderate spinal canal stenosis at {site}.",),
                "imp": ("Spinal canal stenosis at {site}{chg}.",),
            },
            sites=levels,
            min_age=50,
            modalities=CT_MR,
        ),
        Kind(
            "scoliosis",
            ("alignment",),
            "chronic",
            2,
            zh={"new": ("{region}向{extra}侧弯。",), "imp": ("{region}侧弯{chg}。",)},
            en={
                "new": ("Mild {extra}-convex scoliosis of the {region} spine.",),
                "imp": ("Scoliosis{chg}.",),
            },
            extras=(("左", "left"), ("右", "right")),
            modalities=DR,
        ),
    ]
    if lumbar:
        kinds += [
            Kind(
                "compression_fracture",
                ("bone",),
                "chronic",
                1.5,
                zh={
                    "new": ("{site}椎体呈楔形变，考虑压缩性骨折。",),
                    "imp": ("{site}椎体压缩性骨折{chg}。",),
                },
                en={
                    "new": ("Wedge compression deformity of the {site} vertebral body.",),
                    "imp": ("{site} compression fracture, age indeterminate{chg}.",),
                },
                sites=S.THORACOLUMBAR_BODIES,
                min_age=60,
                rank=1,
            ),
            Kind(
                "spondylolisthesis",
                ("alignment",),
                "chronic",
                2,
                zh={"new": ("L4椎体向前I度滑脱。",), "imp": ("L4椎体I度滑脱{chg}。",)},
                en={
                    "new": ("Grade 1 anterolisthesis of L4 on L5.",),
                    "imp": ("Grade 1 spondylolisthesis at L4-L5{chg}.",),
                },
                min_age=40,
            ),
        ]
    return tuple(kinds)


def _spine_normals() -> tuple[Normal, ...]:
    return (
        Normal(
            "alignment",
            ("{region}序列整齐，生理曲度存在。",),
            ("Normal alignment of the {region} spine.",),
        ),
        Normal(
            "bone",
            ("椎体骨质未见明显异常，附件结构完整。",),
            ("Vertebral body heights are preserved. No fracture.",),
        ),
        Normal("disc", ("各椎间盘未见明显突出。",), ("No disc herniation.",), CT_MR),
        Normal("disc", ("椎间隙未见明显狭窄。",), ("Disc spaces are preserved.",), DR),
        Normal("canal", ("椎管未见狭窄。",), ("No spinal canal stenosis.",), CT_MR),
        Normal("soft", ("椎旁软组织未见异常。",), ("Paraspinal soft tissues are unremarkable.",)),
    )


SPINE_L = Region(
    "spine_l",
    _spine_kinds(S.LUMBAR_LEVELS, lumbar=True),
    _spine_normals(),
    (("{item}未见明显异常。",), ("No significant abnormality of the lumbar spine.",)),
    0.7,
    (("腰痛", "low back pain"), ("腰腿痛", "sciatica"), ("外伤后", "trauma")),
    context={"region": ("腰椎", "lumbar")},
)

SPINE_C = Region(
    "spine_c",
    _spine_kinds(S.CERVICAL_LEVELS, lumbar=False),
    _spine_normals(),
    (("{item}未见明显异常。",), ("No significant abnormality of the cervical spine.",)),
    0.65,
    (("颈肩痛", "neck pain"), ("手指麻木", "hand numbness"), ("头晕", "dizziness")),
    context={"region": ("颈椎", "cervical")},
)

# --------------------------------------------------------------------------------------
# Knee
# --------------------------------------------------------------------------------------

KNEE = Region(
    "knee",
    (
        Kind(
            "osteoarthritis",
            ("bone", "joint_space"),
            "chronic",
            8,
            zh={
                "new": ("{joint}关节间隙变窄，关节边缘骨质增生，髁间棘变尖。",),
                "imp": ("{joint}退行性骨关节病{chg}。", "{joint}骨质增生{chg}。"),
                "worse": ("较前加重",),
            },
            en={
                "new": ("Joint space narrowing with marginal osteophytes in the {joint}.",),
                "imp": ("Osteoarthritis of the {joint}{chg}.",),
                "worse": ("progressed",),
            },
            trends=(("stable", 80), ("worse", 20)),
            min_age=40,
            rank=4,
        ),
        Kind(
            "joint_effusion",
            ("effusion",),
            "grade",
            6,
            zh={
                "new": ("{joint}关节腔及髌上囊见{amount}积液。",),
                "follow": ("{joint}关节腔积液{change}。",),
                "resolved": ("关节腔积液已吸收。",),
                "imp": ("{joint}关节腔积液{chg}。",),
                "imp_resolved": ("关节腔积液已吸收。",),
                "better": ("较前减少",),
                "worse": ("较前增多",),
            },
            en={
                "new": ("{amount} joint effusion of the {joint}.",),
                "follow": ("The joint effusion is {change}.",),
                "resolved": ("No joint effusion.",),
                "imp": ("{amount} joint effusion{chg}.",),
                "imp_resolved": ("Resolved joint effusion.",),
                "better": ("decreased",),
                "worse": ("increased",),
            },
            grades=(1, 2),
            trends=(("better", 65), ("stable", 25), ("worse", 10)),
            acute=True,
            recall=(21, 60),
        ),
        Kind(
            "meniscal_tear",
            ("meniscus",),
            "chronic",
            6,
            zh={
                "new": ("{site}内见线状高信号达关节面，考虑撕裂。",),
                "imp": ("{joint}{site}撕裂{chg}。",),
            },
            en={
                "new": (
                    "Linear signal reaching the articular surface in the {site}, consistent with a tear.",
                ),
                "imp": ("Tear of the {site}{chg}.",),
            },
            sites=S.MENISCI,
            modalities=MR,
            rank=2,
        ),
        Kind(
            "acl_tear",
            ("ligament",),
            "chronic",
            2,
            zh={
                "new": ("前交叉韧带走行区信号增高，连续性部分中断。",),
                "imp": ("{joint}前交叉韧带部分撕裂{chg}。",),
            },
            en={
                "new": (
                    "Increased signal and partial discontinuity of the anterior cruciate ligament.",
                ),
                "imp": ("Partial tear of the anterior cruciate ligament{chg}.",),
            },
            modalities=MR,
            rank=2,
        ),
        Kind(
            "fracture",
            ("bone",),
            "healing",
            2,
            zh={
                "new": ("{joint}{site}骨皮质不连续，见透亮骨折线，断端对位可。",),
                "healing": ("{joint}{site}骨折线模糊，可见骨痂形成。",),
                "old": ("{joint}{site}陈旧性骨折，骨折线消失。",),
                "imp": ("{joint}{site}骨折。",),
                "imp_healing": ("{joint}{site}骨折愈合中。",),
                "imp_old": ("{joint}{site}陈旧性骨折。",),
            },
            en={
                "new": ("Nondisplaced fracture of the {site} of the {joint}.",),
                "healing": ("Healing fracture of the {site} with callus formation.",),
                "old": ("Healed fracture of the {site}.",),
                "imp": ("Acute fracture of the {site} of the {joint}.",),
                "imp_healing": ("Healing fracture of the {site}.",),
                "imp_old": ("Old healed fracture of the {site}.",),
            },
            sites=S.KNEE_BONES,
            acute=True,
            recall=(28, 56),
            rank=1,
        ),
    ),
    (
        Normal(
            "bone",
            ("{joint}关节诸骨骨质未见明显异常。",),
            ("No fracture or dislocation of the {joint}.",),
        ),
        Normal("joint_space", ("关节间隙未见明显狭窄。",), ("Joint spaces are preserved.",)),
        Normal("effusion", ("关节腔未见明显积液。",), ("No joint effusion.",)),
        Normal(
            "meniscus",
            ("内、外侧半月板形态信号未见异常。",),
            ("The menisci are intact.",),
            MR,
        ),
        Normal(
            "ligament",
            ("前、后交叉韧带及内、外侧副韧带连续性好。",),
            ("The cruciate and collateral ligaments are intact.",),
            MR,
        ),
        Normal("soft", ("周围软组织未见肿胀。",), ("No soft tissue swelling.",)),
    ),
    (("{joint}关节未见明显异常。",), ("No acute abnormality of the {joint}.",)),
    0.6,
    (("膝关节疼痛", "knee pain"), ("扭伤后", "twisting injury"), ("外伤", "trauma")),
)

# --------------------------------------------------------------------------------------
# Thyroid and breast ultrasound
# --------------------------------------------------------------------------------------

THYROID_US = Region(
    "thyroid_us",
    (
        Kind(
            "thyroid_nodule",
            ("nodule",),
            "size",
            12,
            zh={
                "new": (
                    "{site}见{extra}结节，大小约{size}，边界清，形态规则，纵横比<1（TI-RADS {grade}类）。",
                ),
                "follow": ("{site}{extra}结节，大小约{size}，{change}（TI-RADS {grade}类）。",),
                "imp": ("{site}结节（TI-RADS {grade}类）{chg}，{advice}。",),
            },
            en={
                "new": ("{size} {extra} nodule in the {site} (TI-RADS {grade}).",),
                "follow": (
                    "The {extra} nodule in the {site} measures {size}, {change} (TI-RADS {grade}).",
                ),
                "imp": ("{site} nodule, TI-RADS {grade}{chg}; {advice}.",),
            },
            sites=S.THYROID,
            size=(4, 18),
            grades=(2, 4),
            max_grade=4,
            extras=(
                ("低回声", "hypoechoic"),
                ("等回声", "isoechoic"),
                ("囊实性", "mixed cystic-solid"),
            ),
            trends=(("stable", 70), ("grow", 25), ("shrink", 5)),
            advice=_thyroid_advice,
            rank=2,
        ),
        Kind(
            "thyroid_diffuse",
            ("parenchyma",),
            "chronic",
            4,
            zh={
                "new": ("甲状腺实质回声不均匀，呈网格样改变。",),
                "imp": ("甲状腺弥漫性病变{chg}，请结合甲功检查。",),
            },
            en={
                "new": ("Diffusely heterogeneous thyroid echotexture.",),
                "imp": ("Diffuse thyroid disease{chg}; correlate with thyroid function tests.",),
            },
            rank=4,
        ),
    ),
    (
        Normal(
            "parenchyma",
            ("甲状腺大小形态正常，包膜光滑，实质回声均匀。",),
            ("The thyroid gland is normal in size and echotexture.",),
        ),
        Normal("nodule", ("甲状腺内未见明显结节。",), ("No thyroid nodule.",)),
        Normal("lymph", ("双侧颈部未见异常肿大淋巴结。",), ("No abnormal cervical lymph nodes.",)),
    ),
    (("甲状腺未见明显异常。",), ("Normal thyroid ultrasound.",)),
    0.5,
    (
        ("体检", "health check"),
        ("颈部不适", "neck discomfort"),
        ("甲状腺结节复查", "nodule follow-up"),
    ),
)

BREAST_US = Region(
    "breast_us",
    (
        Kind(
            "breast_nodule",
            ("mass",),
            "size",
            10,
            zh={
                "new": (
                    "{site}见低回声结节，大小约{size}，边界清，形态规则，CDFI示未见明显血流信号（BI-RADS {extra}类）。",
                ),
                "follow": ("{site}低回声结节，大小约{size}，{change}（BI-RADS {extra}类）。",),
                "imp": ("{site}实性结节（BI-RADS {extra}类）{chg}，{advice}。",),
            },
            en={
                "new": (
                    "{size} oval circumscribed hypoechoic mass in the {site} (BI-RADS {extra}).",
                ),
                "follow": (
                    "The hypoechoic mass in the {site} measures {size}, {change} (BI-RADS {extra}).",
                ),
                "imp": ("Solid mass in the {site}, BI-RADS {extra}{chg}; {advice}.",),
            },
            sites=S.BREAST,
            size=(5, 20),
            extras=(("3", "3"), ("4a", "4a")),
            trends=(("stable", 70), ("grow", 20), ("shrink", 10)),
            advice=_breast_advice,
            rank=2,
        ),
        Kind(
            "breast_cyst",
            ("mass",),
            "size",
            6,
            zh={
                "new": ("{site}见无回声区，大小约{size}，边界清，后方回声增强。",),
                "imp": ("{site}囊肿（BI-RADS 2类）{chg}。",),
            },
            en={
                "new": ("{size} simple cyst in the {site}.",),
                "imp": ("Simple cyst in the {site}, BI-RADS 2{chg}.",),
            },
            sites=S.BREAST,
            size=(4, 15),
        ),
        Kind(
            "breast_hyperplasia",
            ("parenchyma",),
            "chronic",
            10,
            zh={
                "new": ("双侧乳腺腺体层增厚，回声不均匀，呈豹纹样改变。",),
                "imp": ("双侧乳腺增生{chg}。",),
            },
            en={
                "new": ("Heterogeneous fibroglandular tissue in both breasts.",),
                "imp": ("Fibrocystic changes of both breasts{chg}.",),
            },
            rank=4,
        ),
    ),
    (
        Normal(
            "parenchyma",
            ("双侧乳腺腺体层结构清晰，回声均匀。",),
            ("Normal fibroglandular tissue bilaterally.",),
        ),
        Normal(
            "mass",
            ("双侧乳腺未见明显占位性病变。",),
            ("No suspicious mass in either breast.",),
        ),
        Normal("axilla", ("双侧腋下未见异常肿大淋巴结。",), ("No axillary lymphadenopathy.",)),
    ),
    (
        ("双侧乳腺未见明显异常（BI-RADS 1类）。",),
        ("Negative bilateral breast ultrasound (BI-RADS 1).",),
    ),
    0.5,
    (("体检", "screening"), ("乳房胀痛", "breast pain"), ("触及肿块", "palpable lump")),
)

# A region for exam items this module does not know: it only ever reports a normal study.
GENERIC = Region(
    "generic",
    (),
    (Normal("all", ("所见部位未见明显异常。",), ("No significant abnormality.",)),),
    (("{item}未见明显异常。",), ("No significant abnormality.",)),
    0.0,
    (),
)

REGIONS = {
    r.key: r
    for r in (
        CHEST_CT,
        CHEST_DR,
        HEAD_CT,
        HEAD_MR,
        ABD_CT,
        ABD_US,
        SPINE_L,
        SPINE_C,
        KNEE,
        THYROID_US,
        BREAST_US,
        GENERIC,
    )
}
