"""The inbox (list, mark read, mark all read) and the notification settings page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from community.notifications.choices import NotificationKind
from community.notifications.selectors import notification_settings_rows, notifications_list
from community.notifications.services import (
    notification_mark_read,
    notification_settings_update,
    notifications_mark_all_read,
)

PAGE_SIZE = 50


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("filter") == "unread"
    page = Paginator(notifications_list(user=request.user, unread_only=unread_only), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/inbox.html", {"page": page, "unread_only": unread_only})


@login_required
@require_POST
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification_mark_read(user=request.user, notification_id=notification_id)
    return redirect("notifications")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    changed = notifications_mark_all_read(user=request.user)
    messages.success(request, f"{changed} notification{'s' if changed != 1 else ''} marked read.")
    return redirect("notifications")


@login_required
@require_http_methods(["GET", "POST"])
def settings_notifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        choices = {
            kind.value: (f"{kind.value}-inbox" in request.POST, f"{kind.value}-email" in request.POST)
            for kind in NotificationKind
        }
        notification_settings_update(user=request.user, choices=choices)
        messages.success(request, "Notification settings saved.")
        return redirect("settings-notifications")
    rows = notification_settings_rows(user=request.user)
    return render(request, "notifications/settings.html", {"rows": rows, "section": "notifications"})
