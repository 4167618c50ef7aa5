"""Routes of the hub app, in three groups mounted by ``config.urls``."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from hub import apis, hf, views

page_urlpatterns = [
    path("join", views.signup, name="signup"),
    path("login", views.LoginView.as_view(), name="login"),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
    # Django's password reset: a one-time link sent through the configured email backend.
    path(
        "password-reset",
        auth_views.PasswordResetView.as_view(
            template_name="hub/password_reset.html",
            email_template_name="hub/password_reset_email.txt",
            subject_template_name="hub/password_reset_subject.txt",
            extra_email_context={"site_name": settings.HUB_SITE_NAME},
            success_url=reverse_lazy("password-reset-sent"),
        ),
        name="password-reset",
    ),
    path(
        "password-reset/sent",
        auth_views.PasswordResetDoneView.as_view(
            template_name="hub/password_reset_sent.html",
            extra_context={"timeout_days": settings.PASSWORD_RESET_TIMEOUT // 86400},
        ),
        name="password-reset-sent",
    ),
    path(
        "password-reset/<uidb64>/<token>",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="hub/password_reset_confirm.html", success_url=reverse_lazy("password-reset-done")
        ),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/done",
        auth_views.PasswordResetCompleteView.as_view(template_name="hub/password_reset_done.html"),
        name="password-reset-done",
    ),
    path("settings/profile", views.settings_profile, name="settings-profile"),
    path("settings/password", views.settings_password, name="settings-password"),
    path("settings/tokens", views.settings_tokens, name="settings-tokens"),
    path("settings/tokens/<id:token_id>/revoke", views.settings_token_revoke, name="settings-token-revoke"),
    path("organizations/new", views.organization_new, name="organization-new"),
    path("organizations/<str:name>/settings/members", views.organization_members, name="organization-members"),
    path("organizations/<str:name>/settings/audit-log", views.organization_audit_log, name="organization-audit-log"),
    path("admin-audit", views.staff_audit_log, name="staff-audit-log"),
]

api_urlpatterns = [
    path("users", apis.UserCreateApi.as_view(), name="api-user-create"),
    path("users/<str:name>", apis.UserDetailApi.as_view(), name="api-user-detail"),
    path("me", apis.MeApi.as_view(), name="api-me"),
    path("organizations", apis.OrganizationCreateApi.as_view(), name="api-organization-create"),
    path("organizations/<str:name>", apis.OrganizationDetailApi.as_view(), name="api-organization-detail"),
    path("organizations/<str:name>/members", apis.OrganizationMembersApi.as_view(), name="api-organization-members"),
    path(
        "organizations/<str:name>/members/<str:username>",
        apis.OrganizationMemberDetailApi.as_view(),
        name="api-organization-member",
    ),
    path("organizations/<str:name>/leave", apis.OrganizationLeaveApi.as_view(), name="api-organization-leave"),
    path(
        "organizations/<str:name>/audit-log",
        apis.OrganizationAuditLogApi.as_view(),
        name="api-organization-audit-log",
    ),
    path("tokens", apis.TokenListCreateApi.as_view(), name="api-tokens"),
    path("tokens/<id:token_id>", apis.TokenRevokeApi.as_view(), name="api-token-revoke"),
]

hf_urlpatterns = [
    path("whoami-v2", hf.whoami_v2, name="hf-whoami"),
    path("agent-harnesses", hf.agent_harnesses, name="hf-agent-harnesses"),
]
