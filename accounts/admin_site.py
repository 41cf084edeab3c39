"""The admin site: staff pass the password (django-axes throttle) and then a second factor.

``AncloraAdminConfig`` replaces ``django.contrib.admin`` in INSTALLED_APPS so that ``admin.site``
(every ``@admin.register``) is an ``AncloraAdminSite``. With ``ADMIN_REQUIRE_2FA`` (always in
production) ``has_permission`` also asks ``request.user.is_verified()`` (django-otp's
OTPMiddleware). A staff session that passed only the password is sent to ``/admin/otp/``: the
first time it enrols a TOTP app (QR code drawn here as SVG, no external service) and is shown its
recovery codes once; later it types the app's code or one recovery code (each works once).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core import checks
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from . import staff_otp


class AncloraAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.AncloraAdminSite"

    def ready(self):
        super().ready()
        checks.register(check_admin_second_factor)
        checks.register(check_admin_second_factor_deploy, checks.Tags.security, deploy=True)


# --- system checks ------------------------------------------------------------------------
def check_admin_second_factor(app_configs=None, **kwargs):
    if not getattr(settings, "ADMIN_REQUIRE_2FA", True) and not settings.DEBUG:
        return [checks.Error(
            "ADMIN_REQUIRE_2FA is off while DEBUG is off: staff would reach /admin/ with a password alone.",
            hint="Turn ADMIN_REQUIRE_2FA off only for local development (DEBUG=true).",
            id="accounts.E201",
        )]
    return []


def check_admin_second_factor_deploy(app_configs=None, **kwargs):
    if not getattr(settings, "ADMIN_REQUIRE_2FA", True):
        return [checks.Error(
            "ADMIN_REQUIRE_2FA must be on in a deployment: staff sign in to /admin/ with a second factor.",
            hint="anclora.settings.production sets ADMIN_REQUIRE_2FA = True.",
            id="accounts.E202",
        )]
    return []


def method_decorator_never_cache_csrf(function):
    from django.utils.decorators import method_decorator

    return method_decorator(csrf_protect)(method_decorator(never_cache)(function))


# --- the site -------------------------------------------------------------------------------
def _second_factor_pending(request) -> bool:
    """A staff session that passed the password but not (yet) the second factor."""
    user = request.user
    return (staff_otp.second_factor_required() and user.is_authenticated and user.is_active and user.is_staff
            and not staff_otp.is_verified(user))


class AncloraAdminSite(AdminSite):
    site_header = gettext_lazy("Anclora Converter · administración")
    site_title = gettext_lazy("Anclora Converter")

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        return not staff_otp.second_factor_required() or staff_otp.is_verified(request.user)

    # Staff who still owe the second factor go to it (keeping where they were going).
    def _to_second_factor(self, request, next_url: str | None = None):
        target = reverse("admin:otp", current_app=self.name)
        return HttpResponseRedirect(f"{target}?{urlencode({REDIRECT_FIELD_NAME: next_url or request.get_full_path()})}")

    def admin_view(self, view, cacheable=False):
        wrapped = super().admin_view(view, cacheable)

        def inner(request, *args, **kwargs):
            if _second_factor_pending(request) and request.path != reverse("admin:logout", current_app=self.name):
                return self._to_second_factor(request)
            return wrapped(request, *args, **kwargs)

        inner.__name__ = getattr(wrapped, "__name__", "admin_view")
        inner.__wrapped__ = wrapped
        for attribute in ("csrf_exempt", "login_required"):
            if hasattr(wrapped, attribute):
                setattr(inner, attribute, getattr(wrapped, attribute))
        return inner

    def login(self, request, extra_context=None):
        if request.method == "GET" and _second_factor_pending(request):
            return self._to_second_factor(request, self._next_url(request))
        response = super().login(request, extra_context)
        if request.method == "POST" and response.status_code == 302 and _second_factor_pending(request):
            return self._to_second_factor(request, self._next_url(request))
        return response

    def get_urls(self):
        return [path("otp/", self.second_factor_view, name="otp"), *super().get_urls()]

    def _next_url(self, request) -> str:
        candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
        if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                         require_https=request.is_secure()):
            return candidate
        return reverse("admin:index", current_app=self.name)

    # --- /admin/otp/: enrol or verify ------------------------------------------------------
    @method_decorator_never_cache_csrf
    def second_factor_view(self, request):
        from django.template.response import TemplateResponse

        user = request.user
        next_url = self._next_url(request)
        if not (user.is_authenticated and user.is_active and user.is_staff):
            login_url = reverse("admin:login", current_app=self.name)
            return HttpResponseRedirect(f"{login_url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")
        if not _second_factor_pending(request):
            return HttpResponseRedirect(next_url)
        request.current_app = self.name
        context = {**self.each_context(request), "next": next_url, "redirect_field_name": REDIRECT_FIELD_NAME,
                   "subtitle": None}
        error = None
        if staff_otp.has_confirmed_device(user):
            if request.method == "POST":
                device, throttled = staff_otp.second_factor_verify(user=user, token=request.POST.get("token", "")[:64])
                if device is not None:
                    self._verified(request, device)
                    return HttpResponseRedirect(next_url)
                error = (_("Demasiados códigos incorrectos. Espera un momento y vuelve a intentarlo.") if throttled
                         else _("El código no es válido."))
            context.update(title=_("Segundo factor"), error=error)
            return TemplateResponse(request, "admin/otp_verify.html", context, status=400 if error else 200)

        # First login with the second factor on: enrol an authenticator app.
        if request.method == "POST":
            try:
                device_id = int(request.POST.get("device", ""))
            except ValueError:
                device_id = 0
            confirmed = staff_otp.totp_enrolment_confirm(user=user, device_id=device_id,
                                                         token=request.POST.get("token", "")[:64])
            if confirmed is not None:
                device, codes = confirmed
                self._verified(request, device)
                context.update(title=_("Códigos de recuperación"), codes=codes)
                return TemplateResponse(request, "admin/otp_recovery_codes.html", context)
            error = _("El código no es válido. Comprueba la hora del dispositivo y escribe el código actual.")
        enrolment = staff_otp.totp_enrolment_start(user=user)
        context.update(title=_("Activa el segundo factor"), enrolment=enrolment, error=error)
        return TemplateResponse(request, "admin/otp_enrol.html", context, status=400 if error else 200)

    @staticmethod
    def _verified(request, device) -> None:
        import django_otp

        request.session.cycle_key()  # a new session id once the second factor is passed
        django_otp.login(request, device)
