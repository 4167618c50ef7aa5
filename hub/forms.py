"""HTML forms of the hub app: field parsing only; the services decide."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from hub.choices import OrgRole, TokenRole
from hub.services.suspensions import user_suspended_with_password


class LoginForm(AuthenticationForm):
    """Django's log-in form, which says so when the right password is given for a suspended
    account (Django's backend refuses inactive users as if the password were wrong)."""

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            suspended = user_suspended_with_password(
                username=self.cleaned_data.get("username") or "", password=self.cleaned_data.get("password") or ""
            )
            if suspended is not None:
                raise forms.ValidationError(
                    f"This account was suspended by the moderators on {suspended.suspended_at:%Y-%m-%d} "
                    f"(reason: {suspended.suspension_reason or 'other'}).",
                    code="suspended",
                ) from None
            raise


class SignupForm(forms.Form):
    username = forms.CharField(max_length=39, help_text="Letters, digits, single '-' or '_' between them.")
    fullname = forms.CharField(max_length=100, required=False, label="Full name")
    email = forms.EmailField()
    password = forms.CharField(widget=forms.PasswordInput, max_length=256)


class ProfileForm(forms.Form):
    fullname = forms.CharField(max_length=100, required=False, label="Full name")
    email = forms.EmailField()
    homepage = forms.URLField(required=False, assume_scheme="https")
    bio = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=2000)


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(widget=forms.PasswordInput, label="Current password")
    new_password = forms.CharField(widget=forms.PasswordInput, label="New password", max_length=256)


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=64)
    role = forms.ChoiceField(choices=TokenRole.choices, initial=TokenRole.READ)


class OrganizationCreateForm(forms.Form):
    name = forms.CharField(max_length=39, help_text="Letters, digits, single '-' or '_' between them.")
    fullname = forms.CharField(max_length=100, required=False, label="Display name")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=39)
    role = forms.ChoiceField(choices=OrgRole.choices, initial=OrgRole.READ)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=OrgRole.choices)
