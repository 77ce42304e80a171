"""Vocabulary shared by the study and report generators: names, doctors, exam items, sources.

Plain data only. Weights are relative; they describe a general hospital's radiology
department (more chest CT and chest radiographs than anything else, emergencies skewed
towards head and chest CT, health checks towards radiographs and ultrasound).
"""

from __future__ import annotations

from dataclasses import dataclass

# Surnames roughly by frequency (most common first), so that 王/李/张 dominate as they do.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛")

SURNAME_PINYIN = {
    "王": "Wang",
    "李": "Li",
    "张": "Zhang",
    "刘": "Liu",
    "陈": "Chen",
    "杨": "Yang",
    "黄": "Huang",
    "赵": "Zhao",
    "吴": "Wu",
    "周": "Zhou",
    "徐": "Xu",
    "孙": "Sun",
    "马": "Ma",
    "朱": "Zhu",
    "胡": "Hu",
    "郭": "Guo",
    "何": "He",
    "高": "Gao",
    "林": "Lin",
    "罗": "Luo",
    "郑": "Zheng",
    "梁": "Liang",
    "谢": "Xie",
    "宋": "Song",
    "唐": "Tang",
}

GIVEN_M = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙阳建国峰志文东海亮成新春德"
GIVEN_F = "芳娜敏静丽艳娟霞燕玲婷雪琳晶颖倩慧佳欣悦梅兰红萍琴云洁莉秀英桂珍玉凤华丹萱怡彤"

GIVEN_M_PINYIN = (
    "Wei",
    "Qiang",
    "Lei",
    "Jun",
    "Yong",
    "Jie",
    "Tao",
    "Ming",
    "Chao",
    "Hui",
    "Peng",
    "Hao",
    "Jianguo",
    "Zhiqiang",
    "Haitao",
    "Xiaoming",
    "Jianhua",
)
GIVEN_F_PINYIN = (
    "Fang",
    "Na",
    "Min",
    "Jing",
    "Li",
    "Yan",
    "Juan",
    "Ting",
    "Xue",
    "Ying",
    "Mei",
    "Xiuying",
    "Guiying",
    "Xiaohong",
    "Lihua",
)

WESTERN_M = ("John", "David", "Michael", "James", "Robert", "Thomas", "Daniel", "Ivan", "Ahmed")
WESTERN_F = ("Mary", "Anna", "Maria", "Sarah", "Emma", "Laura", "Olga", "Elena", "Fatima")
WESTERN_LAST = (
    "Smith",
    "Johnson",
    "Brown",
    "Garcia",
    "Müller",
    "Petrov",
    "Ivanova",
    "Kim",
    "Tanaka",
    "Nguyen",
    "Khan",
    "Rossi",
    "O'Brien",
    "Kowalski",
)

# Unidentified emergency patients are registered under a placeholder name, without an MRN.
UNIDENTIFIED_NAME = "无名氏"

# Attending radiologists sign (审核) reports; residents and junior staff write most of them.
SENIOR_RADIOLOGISTS = ("王建国", "李红梅", "张志强", "陈晓东", "吴海涛", "林志文", "周静", "孙晓燕")
JUNIOR_RADIOLOGISTS = (
    "刘洋",
    "杨丽",
    "黄伟",
    "赵敏",
    "徐斌",
    "马俊",
    "朱琳",
    "胡明",
    "郭芳",
    "何磊",
    "高颖",
    "罗娟",
)

SOURCES = (("门诊", 50), ("住院", 28), ("急诊", 14), ("体检", 8))

# RIS statuses. Certified (已审核) dominates old data; the last days before the export still
# hold unfinished work.
STATUS_CERTIFIED = "已审核"
STATUS_REPORTED = "已报告"
STATUS_EXAMINED = "已检查"
STATUS_CHECKED_IN = "已登记"
STATUS_SCHEDULED = "已预约"
STATUS_CANCELLED = "已取消"
STATUS_WEIGHTS_OLD = (
    (STATUS_CERTIFIED, 86),
    (STATUS_CANCELLED, 5),
    (STATUS_REPORTED, 4),
    (STATUS_EXAMINED, 3),
    (STATUS_CHECKED_IN, 1),
    (STATUS_SCHEDULED, 1),
)
STATUS_WEIGHTS_RECENT = (
    (STATUS_CERTIFIED, 35),
    (STATUS_REPORTED, 15),
    (STATUS_EXAMINED, 20),
    (STATUS_CHECKED_IN, 15),
    (STATUS_SCHEDULED, 10),
    (STATUS_CANCELLED, 5),
)
# Statuses at which images exist, i.e. the findings of the visit are determined.
EXAMINED_STATUSES = frozenset({STATUS_CERTIFIED, STATUS_REPORTED, STATUS_EXAMINED})


@dataclass(frozen=True)
class ExamItem:
    name: str
    modality: str
    region: str  # key of a findings region in sampledata.findings
    english: str
    weights: tuple[int, int, int, int]  # 门诊, 住院, 急诊, 体检
    organs: frozenset[str] | None = None  # None: every organ of the region
    sex: str | None = None
    min_age: int = 0


_URINARY = frozenset({"kidney", "bladder", "peritoneum"})

EXAM_ITEMS = (
    ExamItem("胸部CT平扫", "CT", "chest_ct", "CT chest without contrast", (20, 22, 18, 0)),
    ExamItem("肺部低剂量CT", "CT", "chest_ct", "Low-dose CT chest", (4, 0, 0, 25), min_age=18),
    ExamItem("胸部CT增强", "CT", "chest_ct", "CT chest with contrast", (3, 6, 1, 0), min_age=14),
    ExamItem("头颅CT平扫", "CT", "head_ct", "CT head without contrast", (8, 10, 30, 0)),
    ExamItem("上腹部CT增强", "CT", "abd_ct", "CT abdomen with contrast", (4, 7, 2, 0), min_age=14),
    ExamItem("全腹部CT平扫", "CT", "abd_ct", "CT abdomen and pelvis", (3, 5, 10, 0), min_age=6),
    ExamItem(
        "泌尿系CT平扫",
        "CT",
        "abd_ct",
        "CT urogram (non-contrast)",
        (2, 2, 5, 0),
        organs=_URINARY,
        min_age=6,
    ),
    ExamItem("腰椎CT平扫", "CT", "spine_l", "CT lumbar spine", (3, 1, 1, 0), min_age=16),
    ExamItem("头颅MR平扫", "MR", "head_mr", "MRI brain without contrast", (6, 6, 1, 0)),
    ExamItem("头颅MR平扫+DWI", "MR", "head_mr", "MRI brain with DWI", (2, 4, 2, 0), min_age=14),
    ExamItem("腰椎MR平扫", "MR", "spine_l", "MRI lumbar spine", (5, 2, 0, 0), min_age=16),
    ExamItem("颈椎MR平扫", "MR", "spine_c", "MRI cervical spine", (4, 1, 0, 0), min_age=16),
    ExamItem("膝关节MR平扫", "MR", "knee", "MRI knee", (4, 1, 0, 0), min_age=10),
    ExamItem("胸部正位片", "DR", "chest_dr", "Chest radiograph, PA", (10, 10, 12, 30)),
    ExamItem("胸部正侧位片", "DR", "chest_dr", "Chest radiograph, PA and lateral", (5, 3, 2, 5)),
    ExamItem("腰椎正侧位片", "DR", "spine_l", "Lumbar spine radiographs", (4, 1, 2, 0), min_age=12),
    ExamItem(
        "颈椎正侧位片", "DR", "spine_c", "Cervical spine radiographs", (4, 0, 1, 2), min_age=12
    ),
    ExamItem("膝关节正侧位片", "DR", "knee", "Knee radiographs", (4, 1, 3, 0), min_age=6),
    ExamItem("腹部超声", "US", "abd_us", "Abdominal ultrasound", (8, 6, 5, 20)),
    ExamItem(
        "肝胆胰脾超声",
        "US",
        "abd_us",
        "Ultrasound of liver, gallbladder, pancreas and spleen",
        (5, 3, 0, 8),
        organs=frozenset({"liver_diffuse", "liver", "gallbladder", "pancreas_spleen"}),
    ),
    ExamItem(
        "泌尿系超声", "US", "abd_us", "Urinary tract ultrasound", (3, 2, 3, 5), organs=_URINARY
    ),
    ExamItem("甲状腺彩超", "US", "thyroid_us", "Thyroid ultrasound", (5, 1, 0, 15), min_age=10),
    ExamItem(
        "乳腺彩超", "US", "breast_us", "Breast ultrasound", (5, 0, 0, 12), sex="F", min_age=16
    ),
)
ITEMS_BY_NAME = {item.name: item for item in EXAM_ITEMS}
SOURCE_INDEX = {"门诊": 0, "住院": 1, "急诊": 2, "体检": 3}

# exam_id prefix per modality (the RIS numbers each modality's worklist separately).
EXAM_ID_PREFIX = {"CT": "CT", "MR": "MR", "DR": "DR", "US": "US"}

# Age in years of a newly seen patient, (age, weight); within a bracket the exact age is
# spread uniformly over the next 8 years.
AGE_BRACKETS = (
    (0, 2),
    (1, 2),
    (5, 3),
    (12, 3),
    (18, 5),
    (25, 8),
    (32, 9),
    (40, 11),
    (48, 12),
    (55, 13),
    (62, 13),
    (70, 10),
    (78, 6),
    (86, 2),
)
