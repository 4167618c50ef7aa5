"""Routes of runs: the REST API (under ``api/v1/``) and the pages."""

from django.urls import path

from training_runner.jobs import apis, views

api_urlpatterns = [
    path("runs", apis.RunListCreateApi.as_view(), name="api-runs"),
    path("runs/<id:run_id>", apis.RunDetailApi.as_view(), name="api-run"),
    path("runs/<id:run_id>/cancel", apis.RunCancelApi.as_view(), name="api-run-cancel"),
    path("runs/<id:run_id>/metrics", apis.RunMetricsApi.as_view(), name="api-run-metrics"),
    path("runs/<id:run_id>/logs", apis.RunLogsApi.as_view(), name="api-run-logs"),
    path("runs/<id:run_id>/samples", apis.RunSamplesApi.as_view(), name="api-run-samples"),
    path("runs/<id:run_id>/results", apis.RunResultsApi.as_view(), name="api-run-results"),
]

page_urlpatterns = [
    path("runs", views.run_list_page, name="runs"),
    path("runs/new/training", views.training_run_new, name="run-new-training"),
    path("runs/new/evaluation", views.evaluation_run_new, name="run-new-evaluation"),
    path("runs/<id:run_id>", views.run_page, name="run"),
    path("runs/<id:run_id>/cancel", views.run_cancel_page, name="run-cancel"),
    path("runs/<id:run_id>/samples", views.run_samples_page, name="run-samples"),
    path("runs/<id:run_id>/samples/<str:task>.jsonl", views.run_samples_file, name="run-samples-file"),
    path(".well-known/llm-hub/results-signing-key.pem", views.signing_key, name="results-signing-key"),
]
