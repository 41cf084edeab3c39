import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.auth.password_validation import validate_password
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)

    def create_user(self, email, password=None, **extra):
        # Used by createsuperuser and tests; the application path is accounts.services.
        email = self.normalize_email(email).strip()
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        if password is not None:
            # createsuperuser --noinput (DJANGO_SUPERUSER_PASSWORD) skips the validators; staff get the
            # sign-up's password policy on every path (the command turns this into a CommandError).
            validate_password(password, user=self.model(email=email, **extra))
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(_("email"), max_length=254)
    first_name = models.CharField(pgettext_lazy("persona", "nombre"), max_length=150, blank=True)
    last_name = models.CharField(_("apellidos"), max_length=150, blank=True)

    # Rewards: total_points is the spendable balance, lifetime_points what was ever earned.
    total_points = models.IntegerField(_("puntos totales"), default=0)
    lifetime_points = models.IntegerField(_("puntos históricos"), default=0)
    level = models.PositiveSmallIntegerField(_("nivel"), default=1)
    current_streak = models.IntegerField(_("racha actual"), default=0)
    longest_streak = models.IntegerField(_("racha más larga"), default=0)
    last_active_date = models.DateField(_("último día activo"), null=True, blank=True)
    conversion_credits = models.IntegerField(_("créditos de conversión"), default=0)

    language = models.CharField(_("idioma"), max_length=8, default="es", choices=[("es", "Español"), ("en", "English")])
    time_zone = models.CharField(_("zona horaria"), max_length=64, default="Europe/Madrid")

    is_active = models.BooleanField(_("activo"), default=True)
    is_staff = models.BooleanField(_("es personal"), default=False)
    date_joined = models.DateTimeField(_("fecha de alta"), default=timezone.now)

    # E-mail verification (accounts/verification.py): null until the address is confirmed; an
    # address being changed to waits in pending_email until its link is opened.
    email_verified_at = models.DateTimeField(_("email verificado"), null=True, blank=True)
    pending_email = models.EmailField(_("email pendiente de verificar"), max_length=254, blank=True)
    email_verification_sent_at = models.DateTimeField(_("verificación enviada el"), null=True, blank=True)

    # Stamped in every JWT (accounts/tokens.py): raised by one on each password change or reset, so
    # tokens issued before it are refused. Only accounts.signals moves it (an UPDATE … + 1).
    token_version = models.PositiveIntegerField(_("versión de los tokens"), default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("usuario")
        verbose_name_plural = _("usuarios")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(condition=models.Q(total_points__gte=0), name="user_total_points_gte_0"),
            models.CheckConstraint(
                condition=models.Q(lifetime_points__gte=0), name="user_lifetime_points_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(conversion_credits__gte=0), name="user_credits_gte_0"
            ),
            models.CheckConstraint(condition=models.Q(current_streak__gte=0), name="user_streak_gte_0"),
            models.CheckConstraint(
                condition=models.Q(longest_streak__gte=0), name="user_longest_streak_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(level__gte=1, level__lte=10), name="user_level_1_10"
            ),
        ]
        indexes = [
            # the all-time leaderboard: ORDER BY lifetime_points DESC, date_joined, id LIMIT n
            models.Index(fields=["-lifetime_points", "date_joined", "id"], name="user_leaderboard"),
        ]

    def __str__(self):
        return self.email

    def save(self, *args, **kwargs):
        # A full save of a copy loaded before a password change must not write the old token_version
        # back (that would revive the revoked tokens): it saves every field but that one.
        if (kwargs.get("update_fields") is None and not kwargs.get("force_insert") and not self._state.adding
                and not self.get_deferred_fields()):
            kwargs["update_fields"] = [field.name for field in self._meta.concrete_fields
                                       if not field.primary_key and field.name != "token_version"]
        super().save(*args, **kwargs)

    @property
    def is_admin(self) -> bool:
        return self.is_staff or self.is_superuser

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_short_name(self) -> str:
        return self.first_name or self.email


class SubscriptionPlan(models.Model):
    slug = models.SlugField(_("identificador"), unique=True)
    name = models.CharField(_("nombre"), max_length=64)
    retention_hours = models.PositiveIntegerField(_("horas de retención"))
    monthly_conversions = models.PositiveIntegerField(_("conversiones al mes"), null=True, blank=True,
                                                      help_text=_("vacío = ilimitado"))
    max_file_size_mb = models.PositiveIntegerField(_("tamaño máximo (MB)"))
    priority_queue = models.BooleanField(_("cola prioritaria"), default=False)
    price_eur = models.DecimalField(_("precio (EUR)"), max_digits=8, decimal_places=2)
    sort_order = models.PositiveSmallIntegerField(_("orden"), default=0)
    is_active = models.BooleanField(_("activo"), default=True)

    class Meta:
        ordering = ["sort_order"]
        verbose_name = _("plan de suscripción")
        verbose_name_plural = _("planes de suscripción")
        constraints = [
            models.CheckConstraint(condition=models.Q(price_eur__gte=0), name="plan_price_gte_0"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_unlimited(self) -> bool:
        return self.monthly_conversions is None


class UserSubscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("activa")
        PENDING = "pending", _("pendiente de pago")
        CANCELLED = "cancelled", _("cancelada")
        EXPIRED = "expired", _("caducada")

    user = models.ForeignKey(User, verbose_name=_("usuario"), on_delete=models.CASCADE, related_name="subscriptions")
    plan = models.ForeignKey(SubscriptionPlan, verbose_name=_("plan"), on_delete=models.PROTECT,
                             related_name="subscriptions")
    status = models.CharField(_("estado"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    current_period_start = models.DateTimeField(_("inicio del periodo"))
    current_period_end = models.DateTimeField(_("fin del periodo"))
    created_at = models.DateTimeField(_("creado el"), auto_now_add=True)

    class Meta:
        verbose_name = _("suscripción")
        verbose_name_plural = _("suscripciones")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(status="active"), name="one_active_subscription_per_user"
            ),
            models.CheckConstraint(
                condition=models.Q(current_period_end__gt=models.F("current_period_start")),
                name="subscription_period_positive",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.plan} ({self.get_status_display()})"


class AnonymousSession(models.Model):
    session_id = models.UUIDField(_("id de sesión"), primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(_("creado el"), auto_now_add=True, db_index=True)
    last_seen = models.DateTimeField(_("visto por última vez"), default=timezone.now, db_index=True)
    adopted_by = models.ForeignKey(
        User, verbose_name=_("adoptada por"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="adopted_sessions",
    )
    adopted_at = models.DateTimeField(_("adoptada el"), null=True, blank=True)

    class Meta:
        verbose_name = _("sesión anónima")
        verbose_name_plural = _("sesiones anónimas")

    def __str__(self):
        return str(self.session_id)


class CreditReason(models.TextChoices):
    OPENING_BALANCE = "opening_balance", _("saldo inicial")
    ADMIN_GRANT = "admin_grant", _("concedido por el equipo")
    REDEMPTION = "redemption", _("canje de puntos")
    CONVERSION = "conversion", _("conversión")
    GIVE_BACK = "give_back", _("devolución por conversión fallida")
    RETENTION_EXTENSION = "retention_extension", _("ampliación de retención")


class CreditLedgerEntry(models.Model):
    """One change of a user's conversion credits; `User.conversion_credits` moves only with a row here
    (accounts.credits is the only writer). The key makes every change apply at most once."""

    user = models.ForeignKey(User, verbose_name=_("usuario"), on_delete=models.CASCADE, related_name="credit_entries")
    delta = models.IntegerField(_("créditos"))
    balance_after = models.IntegerField(_("saldo después"))
    reason = models.CharField(_("motivo"), max_length=32, choices=CreditReason.choices)
    idempotency_key = models.CharField(_("clave de idempotencia"), max_length=128)
    subject_type = models.CharField(_("tipo de objeto"), max_length=32, blank=True)
    subject_id = models.CharField(_("id del objeto"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("fecha"), default=timezone.now)

    class Meta:
        verbose_name = _("movimiento de créditos")
        verbose_name_plural = _("movimientos de créditos")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "reason", "idempotency_key"], name="credit_entry_idempotent"),
            models.CheckConstraint(condition=~models.Q(delta=0), name="credit_entry_delta_not_0"),
            models.CheckConstraint(condition=models.Q(balance_after__gte=0), name="credit_entry_balance_gte_0"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="credit_entry_user_created")]

    def __str__(self):
        return f"{self.user_id} {self.get_reason_display()} {self.delta:+d}"
