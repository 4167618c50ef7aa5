"""HTML pages of the hub app: accounts, settings and organizations (profiles, which list
repositories, are ``frontend.views.profile``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from common.errors import HubError, NotFound, PermissionDenied, RateLimited, ValidationError
from common.throttling import client_ip
from hub.choices import AuditAction
from hub.forms import (
    LoginForm,
    MemberAddForm,
    MemberRoleForm,
    OrganizationCreateForm,
    PasswordChangeForm,
    ProfileForm,
    SignupForm,
    TokenCreateForm,
)
from hub.permissions import OrgAction, role_allows
from hub.selectors import (
    AUDIT_PAGE_SIZE,
    AuditFilters,
    audit_log_all,
    audit_log_of_organization,
    membership_role,
    organization_get_by_name,
    organization_members_list,
    token_list,
)
from hub.services.accounts import user_change_password, user_create, user_update_profile
from hub.services.login_throttle import (
    login_attempt_check,
    login_failure_record,
    login_success_record,
    signup_attempt_check,
)
from hub.services.organizations import (
    membership_add,
    membership_change_role,
    membership_remove,
    organization_create,
    organization_leave,
)
from hub.services.tokens import token_create, token_revoke


def form_errors_from(form, error: HubError, *, aliases: dict[str, str] | None = None) -> None:
    """Attach a service error to the form fields it names (or to the whole form).

    ``aliases`` maps a service's field name to the form's (the namespace service says ``name``
    where the sign-up form says ``username``).
    """
    if error.fields:
        for field, field_messages in error.fields.items():
            field = (aliases or {}).get(field, field)
            target = field if field in form.fields else None
            for message in field_messages:
                form.add_error(target, message)
    else:
        form.add_error(None, error.message)


class LoginView(auth_views.LoginView):
    """Django's log-in form, throttled (``hub.services.login_throttle``): while a name or an
    address is locked out the form answers 429 with the notice and checks no password."""

    template_name = "hub/login.html"
    authentication_form = LoginForm

    def post(self, request, *args, **kwargs):
        username, ip = request.POST.get("username", ""), client_ip(request)
        try:
            login_attempt_check(username=username, ip=ip)
        except RateLimited as error:
            return self._locked(error)
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200:  # the form was invalid: a failed attempt
            login_failure_record(username=username, ip=ip)
            try:
                login_attempt_check(username=username, ip=ip)
            except RateLimited as error:
                return self._locked(error)
        else:
            login_success_record(username=username, ip=ip)
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["suspended"] = context["form"].has_error(NON_FIELD_ERRORS, "suspended")
        return context

    def _locked(self, error: RateLimited) -> HttpResponse:
        form = self.get_form()
        form.errors.clear()
        form.add_error(None, error.message)
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(error.retry_after)
        return response


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            signup_attempt_check(ip=client_ip(request))
        except RateLimited as error:
            form.add_error(None, error.message)
            response = render(request, "hub/signup.html", {"form": form}, status=429)
            response["Retry-After"] = str(error.retry_after)
            return response
        try:
            user = user_create(**form.cleaned_data)
        except HubError as error:
            form_errors_from(form, error, aliases={"name": "username"})
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.username}!")
            return redirect("home")
    return render(request, "hub/signup.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def settings_profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {"fullname": user.fullname, "email": user.email, "homepage": user.homepage, "bio": user.bio}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            user_update_profile(user=user, **form.cleaned_data)
        except HubError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, "Profile saved.")
            return redirect("settings-profile")
    return render(request, "hub/settings_profile.html", {"form": form, "section": "profile"})


@login_required
@require_http_methods(["GET", "POST"])
def settings_password(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user_change_password(user=request.user, **form.cleaned_data)
        except HubError as error:
            form_errors_from(form, error)
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, "Password changed.")
            return redirect("settings-password")
    return render(
        request, "hub/settings_password.html", {"form": form, "section": "password"}, status=400 if form.errors else 200
    )


@login_required
@require_http_methods(["GET", "POST"])
def settings_tokens(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_secret = token_create(user=request.user, **form.cleaned_data)
        except HubError as error:
            form_errors_from(form, error)
        else:
            form = TokenCreateForm()
    context = {"form": form, "tokens": token_list(user=request.user), "new_secret": new_secret, "section": "tokens"}
    return render(request, "hub/settings_tokens.html", context)


@login_required
@require_POST
def settings_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = token_revoke(user=request.user, token_id=token_id)
    except NotFound:
        raise Http404("No such token") from None
    messages.success(request, f"Token '{token.name}' revoked.")
    return redirect("settings-tokens")


@login_required
@require_http_methods(["GET", "POST"])
def organization_new(request: HttpRequest) -> HttpResponse:
    form = OrganizationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = organization_create(creator=request.user, **form.cleaned_data)
        except HubError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, f"Organization {organization.name} created.")
            return redirect("profile", name=organization.name)
    return render(request, "hub/organization_new.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def organization_members(request: HttpRequest, name: str) -> HttpResponse:
    try:
        organization = organization_get_by_name(name=name)
    except NotFound:
        raise Http404(name) from None
    role = membership_role(user=request.user, organization=organization)
    if role is None:
        raise Http404(name)
    add_form = MemberAddForm(request.POST if request.POST.get("action") == "add" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "add" and add_form.is_valid():
                membership_add(actor=request.user, organization=organization, **add_form.cleaned_data)
                messages.success(request, f"{add_form.cleaned_data['username']} added.")
                return redirect("organization-members", name=organization.name)
            if action == "role":
                role_form = MemberRoleForm(request.POST)
                if role_form.is_valid():
                    membership_change_role(
                        actor=request.user,
                        organization=organization,
                        username=request.POST.get("username", ""),
                        role=role_form.cleaned_data["role"],
                    )
                    messages.success(request, "Role changed.")
                    return redirect("organization-members", name=organization.name)
            if action == "remove":
                membership_remove(
                    actor=request.user, organization=organization, username=request.POST.get("username", "")
                )
                messages.success(request, "Member removed.")
                return redirect("organization-members", name=organization.name)
            if action == "leave":
                organization_leave(user=request.user, organization=organization)
                messages.success(request, f"You left {organization.name}.")
                return redirect("profile", name=request.user.username)
        except HubError as error:
            messages.error(request, error.message)
            return redirect("organization-members", name=organization.name)
    context = {
        "organization": organization,
        "memberships": organization_members_list(organization=organization),
        "can_manage": role_allows(role, OrgAction.MANAGE_MEMBERS),
        "my_role": role,
        "add_form": add_form,
        "role_choices": MemberRoleForm.base_fields["role"].choices,
    }
    return render(request, "hub/organization_members.html", context)


def _audit_context(request: HttpRequest, events, filters: AuditFilters) -> dict:
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page") or 1)
    return {"page": page, "filters": filters, "actions": AuditAction.choices}


@login_required
@require_safe
def organization_audit_log(request: HttpRequest, name: str) -> HttpResponse:
    """Org settings → Audit log: the organization's admins (and site staff) read what changed in
    its settings, members and repositories. Non-members get a 404 as on the members page."""
    try:
        organization = organization_get_by_name(name=name)
        if membership_role(user=request.user, organization=organization) is None and not request.user.is_staff:
            raise NotFound(f"No organization is called '{name}'.")
        filters = AuditFilters.from_query(request.GET)
        events = audit_log_of_organization(user=request.user, organization=organization, filters=filters)
    except NotFound:
        raise Http404(name) from None
    except PermissionDenied as error:
        raise DjangoPermissionDenied(error.message) from None
    except ValidationError as error:
        return HttpResponseBadRequest(error.message)
    context = {"organization": organization, **_audit_context(request, events, filters)}
    return render(request, "hub/organization_audit_log.html", context)


@require_safe
def staff_audit_log(request: HttpRequest) -> HttpResponse:
    """The whole site's audit log, for site staff (a 404 for anyone else)."""
    try:
        filters = AuditFilters.from_query(request.GET)
        events = audit_log_all(user=request.user, filters=filters)
    except NotFound:
        raise Http404("Page not found") from None
    except ValidationError as error:
        return HttpResponseBadRequest(error.message)
    return render(request, "hub/staff_audit_log.html", _audit_context(request, events, filters))
