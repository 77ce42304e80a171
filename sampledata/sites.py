"""Anatomical sites as (Chinese, English) labels, keyed by a short code kept in patient state."""

from __future__ import annotations

Sites = dict[str, tuple[str, str]]

LOBES: Sites = {
    "RUL": ("右肺上叶", "right upper lobe"),
    "RML": ("右肺中叶", "right middle lobe"),
    "RLL": ("右肺下叶", "right lower lobe"),
    "LUL": ("左肺上叶", "left upper lobe"),
    "LLL": ("左肺下叶", "left lower lobe"),
}
LOWER_LOBES: Sites = {k: LOBES[k] for k in ("RLL", "LLL", "RML")}

ZONES: Sites = {
    "RU": ("右上肺野", "right upper zone"),
    "RM": ("右中肺野", "right mid zone"),
    "RL": ("右下肺野", "right lower zone"),
    "LU": ("左上肺野", "left upper zone"),
    "LM": ("左中肺野", "left mid zone"),
    "LL": ("左下肺野", "left lower zone"),
}

SIDES: Sites = {"L": ("左侧", "left"), "R": ("右侧", "right"), "B": ("双侧", "bilateral")}
ONE_SIDE: Sites = {"L": ("左侧", "left"), "R": ("右侧", "right")}
KIDNEYS: Sites = {"L": ("左肾", "left kidney"), "R": ("右肾", "right kidney")}

_ORD = {3: "3rd", 4: "4th", 5: "5th", 6: "6th", 7: "7th", 8: "8th", 9: "9th", 10: "10th"}
RIBS: Sites = {
    f"{side}{n}": (f"{zh}第{n}、{n + 1}肋骨", f"{en} {_ORD[n]} and {_ORD[n + 1]} ribs")
    for side, (zh, en) in ONE_SIDE.items()
    for n in range(3, 10)
}

BRAIN_DEEP: Sites = {
    "LBG": ("左侧基底节区", "left basal ganglia"),
    "RBG": ("右侧基底节区", "right basal ganglia"),
    "LTH": ("左侧丘脑", "left thalamus"),
    "RTH": ("右侧丘脑", "right thalamus"),
}
BRAIN_LOBAR: Sites = {
    "LF": ("左侧额叶", "left frontal lobe"),
    "RF": ("右侧额叶", "right frontal lobe"),
    "LTP": ("左侧颞顶叶", "left temporoparietal region"),
    "RP": ("右侧顶叶", "right parietal lobe"),
    "RO": ("右侧枕叶", "right occipital lobe"),
    "LCB": ("左侧小脑半球", "left cerebellar hemisphere"),
}
BRAIN_HEMORRHAGE: Sites = {**BRAIN_DEEP, "RF": BRAIN_LOBAR["RF"], "LTP": BRAIN_LOBAR["LTP"]}
LACUNAR: Sites = {
    "BBG": ("双侧基底节区", "bilateral basal ganglia"),
    "BCS": ("双侧半卵圆中心", "bilateral centrum semiovale"),
    "BTH": ("双侧丘脑", "bilateral thalami"),
    "LBG": BRAIN_DEEP["LBG"],
    "RBG": BRAIN_DEEP["RBG"],
}
MENINGES: Sites = {
    "RFC": ("右侧额部", "right frontal convexity"),
    "LPC": ("左侧顶部", "left parietal convexity"),
    "FLX": ("大脑镰旁", "parafalcine region"),
    "LSW": ("左侧蝶骨嵴", "left sphenoid wing"),
}

LIVER: Sites = {
    "RL": ("肝右叶", "right hepatic lobe"),
    "LL": ("肝左叶", "left hepatic lobe"),
    "S4": ("肝S4段", "hepatic segment 4"),
    "S6": ("肝S6段", "hepatic segment 6"),
    "S8": ("肝S8段", "hepatic segment 8"),
}

LUMBAR_LEVELS: Sites = {
    "L3/4": ("L3/4", "L3-L4"),
    "L4/5": ("L4/5", "L4-L5"),
    "L5/S1": ("L5/S1", "L5-S1"),
}
CERVICAL_LEVELS: Sites = {
    "C3/4": ("C3/4", "C3-C4"),
    "C4/5": ("C4/5", "C4-C5"),
    "C5/6": ("C5/6", "C5-C6"),
    "C6/7": ("C6/7", "C6-C7"),
}
THORACOLUMBAR_BODIES: Sites = {"T12": ("T12", "T12"), "L1": ("L1", "L1"), "L2": ("L2", "L2")}

MENISCI: Sites = {
    "MPH": ("内侧半月板后角", "posterior horn of the medial meniscus"),
    "MB": ("内侧半月板体部", "body of the medial meniscus"),
    "LAH": ("外侧半月板前角", "anterior horn of the lateral meniscus"),
}
KNEE_BONES: Sites = {
    "TP": ("胫骨平台", "tibial plateau"),
    "PAT": ("髌骨", "patella"),
    "FH": ("腓骨小头", "fibular head"),
}

THYROID: Sites = {
    "R": ("甲状腺右叶", "right thyroid lobe"),
    "L": ("甲状腺左叶", "left thyroid lobe"),
    "I": ("甲状腺峡部", "thyroid isthmus"),
}
BREAST: Sites = {
    f"{side}{h}": (f"{zh}乳{h}点钟方向", f"{en} breast at {h} o'clock")
    for side, zh, en in (("L", "左", "left"), ("R", "右", "right"))
    for h in range(1, 13)
}

KNEE_SIDES: Sites = {"L": ("左膝", "left knee"), "R": ("右膝", "right knee")}
