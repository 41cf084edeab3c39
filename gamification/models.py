"""Rewards: the point ledger, achievements, weekly challenges. No business logic here (see services.py)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RewardAction(models.TextChoices):
    CONVERSION_COMPLETED = "conversion_completed", _("conversión completada")
    FIRST_CONVERSION = "first_conversion", _("bonus de primera conversión")
    DAILY_LOGIN = "daily_login", _("inicio de sesión diario")
    STREAK_MILESTONE = "streak_milestone", _("hito de racha")
    CHALLENGE_COMPLETED = "challenge_completed", _("desafío completado")
    ACHIEVEMENT_UNLOCKED = "achievement_unlocked", _("logro desbloqueado")
    PAYMENT = "payment", _("pago")
    FEEDBACK = "feedback", _("feedback")
    SHARE = "share", _("compartir en redes")
    REDEMPTION = "redemption", _("canje por créditos")
    ADMIN_GRANT = "admin_grant", _("concedido por el equipo")
    EMAIL_VERIFIED = "email_verified", _("puntos retenidos hasta verificar el email")


class UserReward(models.Model):
    """One line of the point ledger. Balances on User move only together with a row here."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("usuario"), on_delete=models.CASCADE,
                             related_name="rewards")
    action = models.CharField(_("acción"), max_length=32, choices=RewardAction.choices)
    points = models.IntegerField(_("puntos"), help_text=_("negativo en los canjes"))
    idempotency_key = models.CharField(_("clave de idempotencia"), max_length=128)
    subject_type = models.CharField(_("tipo de objeto"), max_length=32, blank=True)
    subject_id = models.CharField(_("id del objeto"), max_length=64, blank=True)
    # For payment rows: the amount the points were computed from (statistics.total_spent_eur).
    amount_eur = models.DecimalField(_("importe (EUR)"), max_digits=12, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(_("fecha"), default=timezone.now)

    class Meta:
        verbose_name = _("movimiento de puntos")
        verbose_name_plural = _("movimientos de puntos")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "action", "idempotency_key"], name="reward_idempotent"),
            models.CheckConstraint(condition=Q(amount_eur__isnull=True) | Q(amount_eur__gte=0),
                                   name="reward_amount_gte_0"),
        ]
        indexes = [
            # weekly / monthly leaderboard: a range on created_at, grouped by user, summing points
            # (covering on Postgres: an index-only scan).
            models.Index(fields=["created_at", "user"], include=["points"], name="reward_created_user"),
            # the caller's history
            models.Index(fields=["user", "-created_at"], name="reward_user_created"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.get_action_display()} {self.points:+d}"


class HeldReward(models.Model):
    """Points an account would have earned while its e-mail was not verified: kept here, outside the
    ledger and the balances, and credited as one ledger row (EMAIL_VERIFIED) when it verifies."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("usuario"), on_delete=models.CASCADE,
                             related_name="held_rewards")
    action = models.CharField(_("acción"), max_length=32, choices=RewardAction.choices)
    points = models.PositiveIntegerField(_("puntos"))
    idempotency_key = models.CharField(_("clave de idempotencia"), max_length=128)
    subject_type = models.CharField(_("tipo de objeto"), max_length=32, blank=True)
    subject_id = models.CharField(_("id del objeto"), max_length=64, blank=True)
    amount_eur = models.DecimalField(_("importe (EUR)"), max_digits=12, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(_("fecha"), default=timezone.now)
    credited_at = models.DateTimeField(_("abonado"), null=True, blank=True)

    class Meta:
        verbose_name = _("puntos retenidos")
        verbose_name_plural = _("puntos retenidos")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "action", "idempotency_key"], name="held_reward_idempotent"),
            models.CheckConstraint(condition=Q(amount_eur__isnull=True) | Q(amount_eur__gte=0),
                                   name="held_reward_amount_gte_0"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.action} +{self.points} (held)"


class PeriodPoints(models.Model):
    """Points earned per user per UTC week / month: a roll-up of the positive ledger rows, kept
    in the same transaction as the row (rewards_award), so the weekly and monthly leaderboards
    are an index scan instead of an aggregate over the period's ledger."""

    class Period(models.TextChoices):
        WEEK = "week", _("semana")
        MONTH = "month", _("mes")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("usuario"), on_delete=models.CASCADE,
                             related_name="period_points")
    period = models.CharField(_("periodo"), max_length=8, choices=Period.choices)
    period_start = models.DateField(_("inicio del periodo"), help_text=_("lunes (semana) o día 1 (mes), en UTC"))
    points = models.PositiveIntegerField(_("puntos"), default=0)
    user_joined = models.DateTimeField(_("alta del usuario"), help_text=_("copia de date_joined: desempate estable"))

    class Meta:
        verbose_name = _("puntos del periodo")
        verbose_name_plural = _("puntos por periodo")
        constraints = [
            models.UniqueConstraint(fields=["user", "period", "period_start"], name="period_points_once"),
        ]
        indexes = [
            models.Index(fields=["period", "period_start", "-points", "user_joined", "user"],
                         name="period_points_board"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.period} {self.period_start}: {self.points}"


class Achievement(models.Model):
    class Category(models.TextChoices):
        MILESTONE = "milestone", _("hito")
        STREAK = "streak", _("racha")
        LEVEL = "level", _("nivel")
        SPECIAL = "special", _("especial")

    class Rarity(models.TextChoices):
        COMMON = "common", _("común")
        UNCOMMON = "uncommon", _("poco común")
        RARE = "rare", _("raro")
        EPIC = "epic", _("épico")
        LEGENDARY = "legendary", _("legendario")

    id = models.SlugField(_("ID"), primary_key=True, max_length=64)
    name = models.CharField(_("nombre"), max_length=100)
    description = models.CharField(_("descripción"), max_length=255)
    icon = models.CharField(_("icono"), max_length=16)
    category = models.CharField(_("categoría"), max_length=16, choices=Category.choices)
    points_reward = models.PositiveIntegerField(_("puntos"))
    rarity = models.CharField(_("rareza"), max_length=16, choices=Rarity.choices)
    sort_order = models.PositiveSmallIntegerField(_("orden"), default=0)

    class Meta:
        verbose_name = _("logro")
        verbose_name_plural = _("logros")
        ordering = ["sort_order", "id"]

    def __str__(self):
        return f"{self.icon} {self.name}"


class UserAchievement(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("usuario"), on_delete=models.CASCADE,
                             related_name="achievements")
    achievement = models.ForeignKey(Achievement, verbose_name=_("logro"), on_delete=models.CASCADE,
                                    related_name="unlocks")
    unlocked_at = models.DateTimeField(_("desbloqueado"), default=timezone.now)

    class Meta:
        verbose_name = _("logro de usuario")
        verbose_name_plural = _("logros de usuarios")
        ordering = ["-unlocked_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "achievement"], name="user_achievement_once"),
        ]

    def __str__(self):
        return f"{self.user_id} · {self.achievement_id}"


class ChallengeKind(models.TextChoices):
    CONVERSIONS = "conversions", _("Convertidor Activo")
    FORMATS = "formats", _("Explorador de Formatos")
    STREAK = "streak", _("Racha Semanal")
    BIG_FILES = "big_files", _("Archivos Grandes")


class WeeklyChallenge(models.Model):
    kind = models.CharField(_("tipo"), max_length=16, choices=ChallengeKind.choices)
    week_start = models.DateField(_("semana (lunes)"))
    starts_at = models.DateTimeField(_("empieza"))
    ends_at = models.DateTimeField(_("termina"))
    target = models.PositiveIntegerField(_("objetivo"))
    points_reward = models.PositiveIntegerField(_("puntos"))
    created_at = models.DateTimeField(_("creado el"), auto_now_add=True)

    class Meta:
        verbose_name = _("desafío semanal")
        verbose_name_plural = _("desafíos semanales")
        ordering = ["-week_start", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["week_start", "kind"], name="challenge_once_per_week"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="challenge_period_positive"),
            models.CheckConstraint(condition=Q(target__gte=1), name="challenge_target_gte_1"),
        ]
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="challenge_window")]

    def __str__(self):
        return f"{self.week_start} · {self.get_kind_display()}"


class UserChallengeProgress(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("usuario"), on_delete=models.CASCADE,
                             related_name="challenge_progress")
    challenge = models.ForeignKey(WeeklyChallenge, verbose_name=_("desafío"), on_delete=models.CASCADE,
                                  related_name="progress")
    progress = models.PositiveIntegerField(_("progreso"), default=0)
    completed_at = models.DateTimeField(_("completado"), null=True, blank=True)
    updated_at = models.DateTimeField(_("actualizado el"), auto_now=True)

    class Meta:
        verbose_name = _("progreso de desafío")
        verbose_name_plural = _("progresos de desafíos")
        constraints = [
            models.UniqueConstraint(fields=["user", "challenge"], name="challenge_progress_once"),
        ]

    def __str__(self):
        return f"{self.user_id} · {self.challenge_id}: {self.progress}"
