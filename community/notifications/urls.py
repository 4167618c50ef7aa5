from django.urls import path

from community.notifications import views

page_urlpatterns = [
    path("notifications", views.inbox, name="notifications"),
    path("notifications/read-all", views.mark_all_read, name="notifications-read-all"),
    path("notifications/<id:notification_id>/read", views.mark_read, name="notification-read"),
    path("settings/notifications", views.settings_notifications, name="settings-notifications"),
]
