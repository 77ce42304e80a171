"""Files for the import tests, built in the test's tmp folder."""

import csv
from datetime import datetime
from pathlib import Path

import xlsxwriter

HEADERS_ZH = [
    "检查号", "病历号", "申请单号", "姓名", "性别", "年龄", "检查状态", "检查来源", "检查项目",
    "设备类型", "检查描述", "开单时间", "登记时间", "报告审核时间", "审核医生",
]  # fmt: skip


def study_row(n: int, **overrides: object) -> dict:
    row = {
        "检查号": f"CT{n:06d}",
        "病历号": f"{1000000000 + n // 2}",
        "申请单号": f"SQ{n:08d}",
        "姓名": "张伟" if n % 2 else "Zhang Wei",
        "性别": "男" if n % 2 else "女",
        "年龄": f"{20 + n % 60}岁",
        "检查状态": "已审核",
        "检查来源": "门诊",
        "检查项目": "胸部CT平扫",
        "设备类型": "CT",
        "检查描述": "双肺纹理清晰",
        "开单时间": datetime(2025, 11, 6, 10, 30),
        "登记时间": datetime(2025, 11, 6, 10, 45),
        "报告审核时间": datetime(2025, 11, 6, 14, 30),
        "审核医生": "李医生",
    }
    row.update(overrides)
    return row


def write_xlsx(path: Path, rows: list[dict], headers: list[str] | None = None) -> Path:
    headers = headers or HEADERS_ZH
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header)
    for r, row in enumerate(rows, start=1):
        for col, header in enumerate(headers):
            value = row.get(header)
            if value is None:
                continue
            if isinstance(value, datetime):
                sheet.write_datetime(r, col, value, date_format)
            elif isinstance(value, int | float):
                sheet.write_number(r, col, value)
            else:
                sheet.write_string(r, col, str(value))
    workbook.close()
    return path


def write_csv(path: Path, rows: list[dict], headers: list[str], *, bom: bool = True) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=headers)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    k: (v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else v)
                    for k, v in row.items()
                    if k in headers
                }
            )
    return path
