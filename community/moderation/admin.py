"""Read-only views of moderation in the admin: changes go through the queue, which logs them."""

from django.contrib import admin

from community.moderation.models import Appeal, ModerationAction, Report


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ("id", "target_kind", "target_label", "reason", "status", "reporter", "created_at")
    list_filter = ("status", "reason", "target_kind")


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "target_kind", "target_label", "reason", "moderator", "created_at")
    list_filter = ("kind", "reason")


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ("id", "action", "appellant", "status", "created_at", "decided_at")
    list_filter = ("status",)
