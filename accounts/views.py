"""Account pages (session auth): they call the same services as the API."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from anclora.core.errors import ApplicationError

from . import password_reset, services, verification
from .abuse import signup_slot
from .forms import (
    DeleteAccountForm,
    EmailChangeForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
    PasswordResetSetForm,
    ProfileForm,
    SignupForm,
)

ANON_SESSION_KEY = "anon_session_id"


def _apply_errors(form, exc: ApplicationError) -> None:
    placed = False
    for field, errors in exc.details.items():
        if field in form.fields:
            for error in errors if isinstance(errors, list) else [errors]:
                form.add_error(field, str(error))
                placed = True
    if not placed:
        form.add_error(None, exc.message)


def _safe_next(request, default="home"):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


def signup_view(request):
    if request.user.is_authenticated:
        return redirect("home")

    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            with signup_slot(request):
                user = services.user_create(
                    **form.cleaned_data,
                    language=translation.get_language() or "es",
                    session_id=request.session.get(ANON_SESSION_KEY),
                    verification_base_url=request.build_absolute_uri("/"),
                )
        except ApplicationError as exc:
            _apply_errors(form, exc)
            status = 429 if exc.status == 429 else status
        else:
            had_session = bool(request.session.get(ANON_SESSION_KEY))
            login(request, user, backend="accounts.backends.EmailBackend")
            messages.success(request, _("¡Bienvenido/a! Tu cuenta está lista."))
            messages.info(request, _(
                "Te hemos enviado un enlace a %(email)s: ábrelo para verificar tu email y empezar a ganar "
                "puntos.") % {"email": user.email})
            if had_session:
                messages.info(request, _("Tus conversiones anteriores se han movido a tu cuenta."))
            return redirect(_safe_next(request))
    return render(request, "accounts/signup.html", {"form": form}, status=status)


def login_view(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_login(
                email=form.cleaned_data["email"], password=form.cleaned_data["password"], request=request,
                session_id=request.session.get(ANON_SESSION_KEY),
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            login(request, user, backend="accounts.backends.EmailBackend")
            messages.success(request, _("Has iniciado sesión."))
            return redirect(_safe_next(request))
    return render(request, "accounts/login.html", {"form": form}, status=status)


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("Has cerrado sesión."))
    return redirect("home")


@login_required
def account_view(request):
    user = request.user
    profile_form = ProfileForm(initial={
        "first_name": user.first_name, "last_name": user.last_name,
        "language": user.language, "time_zone": user.time_zone,
    })
    password_form = PasswordChangeForm()
    delete_form = DeleteAccountForm()
    email_form = EmailChangeForm(prefix="email")
    action = request.POST.get("action")
    if request.method == "POST":
        try:
            if action == "profile":
                profile_form = ProfileForm(request.POST)
                if profile_form.is_valid():
                    services.user_update(user=user, **profile_form.cleaned_data)
                    response = redirect("accounts:account")
                    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language)
                    translation.activate(user.language)
                    messages.success(request, _("Perfil actualizado."))
                    return response
            elif action == "password":
                password_form = PasswordChangeForm(request.POST)
                if password_form.is_valid():
                    services.user_update(user=user, **password_form.cleaned_data)
                    update_session_auth_hash(request, user)
                    messages.success(request, _("Contraseña cambiada."))
                    return redirect("accounts:account")
            elif action == "email":
                email_form = EmailChangeForm(request.POST, prefix="email")
                if email_form.is_valid():
                    services.user_update(user=user, **email_form.cleaned_data,
                                         verification_base_url=request.build_absolute_uri("/"))
                    if user.pending_email:
                        messages.success(request, _(
                            "Te hemos enviado un enlace a %(new)s. Hasta que lo abras, sigues entrando con "
                            "%(old)s.") % {"new": user.pending_email, "old": user.email})
                    return redirect("accounts:account")
            elif action == "delete":
                delete_form = DeleteAccountForm(request.POST)
                if delete_form.is_valid():
                    if not user.check_password(delete_form.cleaned_data["password"]):
                        delete_form.add_error("password", _("La contraseña no es correcta."))
                    else:
                        services.user_delete(user=user)
                        logout(request)
                        messages.success(request, _("Tu cuenta ha sido eliminada."))
                        return redirect("home")
        except ApplicationError as exc:
            target = {"profile": profile_form, "password": password_form, "email": email_form}.get(
                action, delete_form)
            _apply_errors(target, exc)
    return render(request, "accounts/account.html", {
        "profile_form": profile_form, "password_form": password_form, "delete_form": delete_form,
        "email_form": email_form,
    })


@require_POST
def set_language_view(request):
    language = request.POST.get("language")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    response = HttpResponseRedirect(_safe_next(request, "/"))
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
    if request.user.is_authenticated:
        services.user_update(user=request.user, language=language)
    return response


# --- password reset ---------------------------------------------------------------
RESET_SESSION_KEY = "_password_reset_token"
RESET_URL_TOKEN = "set-password"  # the token leaves the URL at once (as in Django's own view)


def password_reset_request_view(request):
    form = PasswordResetRequestForm(request.POST or None)
    status, retry_after = 200, None
    if request.method == "POST" and form.is_valid():
        try:
            password_reset.password_reset_request(email=form.cleaned_data["email"], request=request)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            status, retry_after = exc.status, exc.details.get("retry_after")
        else:
            return redirect("accounts:password_reset_done")
    response = render(request, "accounts/password_reset_request.html", {"form": form}, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def password_reset_done_view(request):
    return render(request, "accounts/password_reset_done.html",
                  {"reset_hours": password_reset.link_lifetime_hours()})


@never_cache
def password_reset_confirm_view(request, uidb64, token):
    if token != RESET_URL_TOKEN:
        request.session[RESET_SESSION_KEY] = token
        return redirect("accounts:password_reset_confirm", uidb64=uidb64, token=RESET_URL_TOKEN)
    token = request.session.get(RESET_SESSION_KEY, "")
    if password_reset.password_reset_user(uidb64=uidb64, token=token) is None:
        return render(request, "accounts/password_reset_confirm.html", {"valid_link": False})
    form = PasswordResetSetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            password_reset.password_reset_confirm(
                uidb64=uidb64, token=token, new_password=form.cleaned_data["new_password"])
        except ApplicationError as exc:
            if exc.code == "invalid_token":
                return render(request, "accounts/password_reset_confirm.html", {"valid_link": False})
            _apply_errors(form, exc)
        else:
            request.session.pop(RESET_SESSION_KEY, None)
            messages.success(request, _("Contraseña cambiada. Ya puedes iniciar sesión con la nueva."))
            return redirect("accounts:login")
    return render(request, "accounts/password_reset_confirm.html", {"valid_link": True, "form": form})


# --- e-mail verification ----------------------------------------------------------
@never_cache
def verify_email_view(request, token):
    """The e-mailed link: a page with one button (a POST, so mail scanners that fetch links do not
    use it up); the POST verifies the address."""
    if request.method != "POST":
        return render(request, "accounts/verify_email.html", {"token": token})
    try:
        user = verification.email_verify(token=token)
    except ApplicationError as exc:
        return render(request, "accounts/verify_email.html", {"token": token, "error": exc.message},
                      status=exc.status)
    messages.success(request, _("¡Email verificado! %(email)s ya es el email de tu cuenta.") % {"email": user.email})
    if request.user.is_authenticated and request.user.pk == user.pk:
        return redirect("accounts:account")
    return redirect("accounts:login")


@require_POST
@login_required
def verify_email_resend_view(request):
    try:
        address = verification.email_verification_resend(
            user=request.user, base_url=request.build_absolute_uri("/"))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Te hemos enviado un nuevo enlace a %(email)s.") % {"email": address})
    return redirect(_safe_next(request, "accounts:account"))
