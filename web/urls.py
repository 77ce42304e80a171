from django.urls import path

from web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("studies/", views.studies, name="studies"),
    path("studies/export/", views.studies_export, name="studies_export"),
    # path: an identifier from the RIS may contain a slash.
    path("studies/<path:exam_id>/", views.study_detail, name="study_detail"),
    path("reports/", views.reports, name="reports"),
    path("reports/<path:report_id>/", views.report_detail, name="report_detail"),
    path("analysis/", views.analysis_list, name="analysis_list"),
    path("analysis/new/", views.analysis_create, name="analysis_create"),
    path("analysis/<str:task_id>/", views.analysis_detail, name="analysis_detail"),
    path("analysis/<str:task_id>/cancel/", views.analysis_cancel, name="analysis_cancel"),
    path("import/", views.import_page, name="import"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
