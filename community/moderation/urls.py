"""Routes of moderation: pages under ``/moderation/`` and ``/report``-style forms, the REST API
under ``/api/v1/``."""

from django.urls import path

from community.moderation import apis, views

page_urlpatterns = [
    path("moderation/", views.queue_page, name="moderation-queue"),
    path("moderation/log", views.log_page, name="moderation-log"),
    path("moderation/report", views.report_page, name="moderation-report"),
    path("moderation/reports/<id:report_id>/act", views.report_act, name="moderation-report-act"),
    path("moderation/appeals/<id:appeal_id>/decide", views.appeal_decide, name="moderation-appeal-decide"),
    path("moderation/actions/<id:action_id>/appeal", views.appeal_create, name="moderation-appeal"),
    path("moderation/suspension-appeal", views.suspension_appeal, name="moderation-suspension-appeal"),
]

api_urlpatterns = [
    path("reports", apis.ReportCreateApi.as_view(), name="api-reports"),
    path("moderation/log", apis.ModerationLogApi.as_view(), name="api-moderation-log"),
    path("moderation/reports", apis.ModerationReportListApi.as_view(), name="api-moderation-reports"),
    path(
        "moderation/reports/<id:report_id>/dismiss",
        apis.ModerationReportDismissApi.as_view(),
        name="api-moderation-report-dismiss",
    ),
    path("moderation/actions", apis.ModerationActionCreateApi.as_view(), name="api-moderation-actions"),
    path("moderation/actions/<id:action_id>/appeal", apis.AppealCreateApi.as_view(), name="api-moderation-appeal"),
    path("moderation/appeals", apis.ModerationAppealListApi.as_view(), name="api-moderation-appeals"),
    path(
        "moderation/appeals/<id:appeal_id>/decide", apis.AppealDecideApi.as_view(), name="api-moderation-appeal-decide"
    ),
]
