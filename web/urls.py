from django.urls import path

from web import dashboard, practice, practice_authoring, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("session/", views.session_activity, name="session"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("studies/", views.studies, name="studies"),
    path("studies/export/", views.studies_export, name="studies_export"),
    # path: an identifier from the RIS may contain a slash.
    path("studies/<path:exam_id>/", views.study_detail, name="study_detail"),
    path("patients/<path:medical_record_no>/", views.patient_detail, name="patient_detail"),
    path("reports/", views.reports, name="reports"),
    path("reports/export/", views.reports_export, name="reports_export"),
    path("reports/<path:report_id>/", views.report_detail, name="report_detail"),
    path("analysis/", views.analysis_list, name="analysis_list"),
    path("analysis/new/", views.analysis_create, name="analysis_create"),
    path("analysis/<str:task_id>/", views.analysis_detail, name="analysis_detail"),
    path("analysis/<str:task_id>/cancel/", views.analysis_cancel, name="analysis_cancel"),
    path("import/", views.import_page, name="import"),
    path("import/<str:batch_id>/rejected.xlsx", views.import_rejected, name="import_rejected"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/export/", dashboard.dashboard_export, name="dashboard_export"),
    path("dashboard/quality/", dashboard.quality, name="quality"),
    path("dashboard/quality/<str:check>/", dashboard.quality_rows, name="quality_rows"),
    # Communication practice (learners and instructors).
    path("practice/", practice.practice_home, name="practice_home"),
    path(
        "practice/activities/<int:activity_id>/start/",
        practice.practice_start,
        name="practice_start",
    ),
    path(
        "practice/activities/<int:activity_id>/analytics/",
        practice.practice_analytics,
        name="practice_analytics",
    ),
    path("practice/conversations/<str:thread_id>/", practice.practice_chat, name="practice_chat"),
    path(
        "practice/conversations/<str:thread_id>/assess/",
        practice.practice_assess,
        name="practice_assess",
    ),
    path("practice/attempts/", practice.practice_attempts, name="practice_attempts"),
    path(
        "practice/assessments/<int:assessment_id>/",
        practice.practice_assessment,
        name="practice_assessment",
    ),
    path(
        "practice/assessments/<int:assessment_id>/override/",
        practice.practice_override,
        name="practice_override",
    ),
    path("practice/manage/", practice_authoring.manage, name="practice_manage"),
    path(
        "practice/manage/scenarios/new/",
        practice_authoring.scenario_edit,
        name="practice_scenario_new",
    ),
    path(
        "practice/manage/scenarios/<int:scenario_id>/",
        practice_authoring.scenario_edit,
        name="practice_scenario_edit",
    ),
    path("practice/manage/rubrics/", practice_authoring.rubrics, name="practice_rubrics"),
    path("practice/manage/activities/", practice_authoring.activities, name="practice_activities"),
]
