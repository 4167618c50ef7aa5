from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from hub.models import ApiToken, AuditEvent, Membership, Namespace, Organization, User


@admin.register(User)
class HubUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Profile", {"fields": ("fullname", "bio", "homepage")}))
    list_display = ("username", "email", "fullname", "is_staff", "date_joined")
    readonly_fields = ("namespace",)


@admin.register(Namespace)
class NamespaceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "created_at")
    search_fields = ("name",)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("namespace", "fullname", "created_at")
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "role", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("token_hash", "prefix")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only (``hub.models.AuditEvent``)."""

    list_display = ("created_at", "actor_name", "action", "target_repr", "ip")
    list_filter = ("action",)
    search_fields = ("actor_name", "target_repr", "action")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
