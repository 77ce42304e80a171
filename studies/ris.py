"""The RIS export's columns: the header the RIS writes over each study field, in its column
order. The study export writes them (studies.exports) and the importer reads them (ingest.rows:
each is its field's first alias), so that an export imports again. Pure: no Django."""

RIS_HEADERS: dict[str, str] = {
    "exam_id": "检查号",
    "medical_record_no": "病历号",
    "application_order_no": "申请单号",
    "patient_name": "姓名",
    "patient_gender": "性别",
    "patient_age": "年龄",
    "exam_status": "检查状态",
    "exam_source": "检查来源",
    "exam_item": "检查项目",
    "equipment_type": "设备类型",
    "exam_description": "检查描述",
    "order_datetime": "开单时间",
    "check_in_datetime": "登记时间",
    "report_certification_datetime": "报告审核时间",
    "certified_physician": "审核医生",
}
