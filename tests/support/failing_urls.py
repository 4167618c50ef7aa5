"""A URL configuration with one view that fails, for error-reporting tests."""

from django.urls import path


def boom(request):
    raise RuntimeError("boom from a view")


urlpatterns = [path("boom", boom), path("api/boom", boom)]

handler500 = "common.views.server_error"
