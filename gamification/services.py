"""Writes on rewards. Every change of a user's points goes through `rewards_award`.

Idempotency: each ledger row has a key unique per (user, action); awarding the same
(action, key) twice changes nothing the second time. The handlers of domain events
(conversion completed, login, payment) are therefore safe to run again.
"""

from __future__ import annotations

import logging
import random
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Model, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.credits import CreditReason, credits_grant
from accounts.selectors import user_email_verified
from anclora.core.errors import ApplicationError
from conversions.selectors import conversion_get_completed_of_user

from . import rules, selectors
from .models import (
    Achievement,
    HeldReward,
    PeriodPoints,
    RewardAction,
    UserAchievement,
    UserChallengeProgress,
    UserReward,
    WeeklyChallenge,
)

logger = logging.getLogger(__name__)
User = get_user_model()

Subject = Model | tuple[str, object] | None


# --- helpers ------------------------------------------------------------------------
def _subject_fields(subject: Subject) -> tuple[str, str]:
    if subject is None:
        return "", ""
    if isinstance(subject, Model):
        return subject._meta.model_name, str(subject.pk)
    kind, pk = subject
    return str(kind)[:32], str(pk)[:64]


def zone_named(zone_name: str | None) -> zoneinfo.ZoneInfo:
    for name in (zone_name, settings.TIME_ZONE, "UTC"):
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, TypeError, ValueError):
            continue
    return zoneinfo.ZoneInfo("UTC")


def user_local_date(user, now: datetime) -> date:
    return now.astimezone(zone_named(getattr(user, "time_zone", None))).date()


def _not_verified() -> ApplicationError:
    message = _("Verifica tu email para ganar y canjear puntos.")
    return ApplicationError(message, code="email_not_verified", status=403)


# Points that never wait for verification: staff grants and the catch-up credit itself.
UNHELD_ACTIONS = frozenset({RewardAction.ADMIN_GRANT, RewardAction.EMAIL_VERIFIED})


def _hold(*, user, action: str, points: int, key: str, subject_type: str, subject_id: str,
          amount_eur: Decimal | None, created_at: datetime) -> bool:
    """Keep what an unverified account would have earned (HeldReward); True the first time."""
    try:
        with transaction.atomic():
            HeldReward.objects.create(user_id=user.pk, action=action, points=points, idempotency_key=key,
                                      subject_type=subject_type, subject_id=subject_id, amount_eur=amount_eur,
                                      created_at=created_at)
    except IntegrityError:
        if HeldReward.objects.filter(user_id=user.pk, action=action, idempotency_key=key).exists():
            return False
        raise
    return True


def _lock_user(user) -> None:
    """Serialise the rewards work of one user (FOR NO KEY UPDATE: ledger inserts are not blocked)."""
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk", flat=True).first()


# --- the one entry point for points -------------------------------------------------
@transaction.atomic
def rewards_award(
    *,
    user,
    action: str,
    points: int,
    idempotency_key: str,
    subject: Subject = None,
    amount_eur: Decimal | None = None,
    now: datetime | None = None,
) -> bool:
    """Write a ledger row and move the balances with it. Returns False (and changes nothing)
    when (user, action, idempotency_key) was already awarded.

    Positive points raise total_points and lifetime_points; negative points (redemptions)
    lower total_points only, and only if the balance covers them (ApplicationError otherwise).
    The level follows lifetime points and never drops.

    An account whose e-mail is not verified earns nothing yet: positive points (but staff grants) are
    held (HeldReward; True the first time, as if paid) and credited in one row when it verifies
    (rewards_on_email_verified); a held (action, key) is never paid again afterwards.
    """
    points = int(points)
    subject_type, subject_id = _subject_fields(subject)
    key = str(idempotency_key)[:128]
    created_at = now or timezone.now()
    if points > 0 and action not in UNHELD_ACTIONS:
        if not user_email_verified(user=user):
            return _hold(user=user, action=action, points=points, key=key, subject_type=subject_type,
                         subject_id=subject_id, amount_eur=amount_eur, created_at=created_at)
        if HeldReward.objects.filter(user_id=user.pk, action=action, idempotency_key=key).exists():
            return False  # held before verification, credited by the catch-up row
    try:
        with transaction.atomic():  # savepoint: a duplicate key leaves the outer transaction usable
            UserReward.objects.create(
                user_id=user.pk, action=action, points=points, idempotency_key=key,
                subject_type=subject_type, subject_id=subject_id, amount_eur=amount_eur,
                created_at=created_at,
            )
    except IntegrityError:
        if UserReward.objects.filter(user_id=user.pk, action=action, idempotency_key=key).exists():
            return False
        raise

    if points > 0:
        User.objects.filter(pk=user.pk).update(
            total_points=F("total_points") + points, lifetime_points=F("lifetime_points") + points
        )
        _period_points_add(user=user, points=points, at=created_at)
    elif points < 0:
        # Conditional: under concurrent redemptions only those the balance covers succeed.
        if not User.objects.filter(pk=user.pk, total_points__gte=-points).update(
            total_points=F("total_points") + points
        ):
            raise ApplicationError(
                _("No tienes suficientes puntos."), code="insufficient_points", status=400,
                details={"points": [_("No tienes suficientes puntos.")]},
            )
    user.refresh_from_db(fields=["total_points", "lifetime_points", "level"])
    _level_update(user=user, now=now)
    return True


def _period_points_add(*, user, points: int, at: datetime) -> None:
    """Keep the weekly / monthly roll-up of earned points in step with the ledger row."""
    for period, start in selectors.period_keys(at):
        rows = PeriodPoints.objects.filter(user_id=user.pk, period=period, period_start=start)
        if rows.update(points=F("points") + points):
            continue
        try:
            with transaction.atomic():
                PeriodPoints.objects.create(user_id=user.pk, period=period, period_start=start, points=points,
                                            user_joined=user.date_joined)
        except IntegrityError:  # created meanwhile by a concurrent award
            rows.update(points=F("points") + points)


def _level_update(*, user, now: datetime | None) -> None:
    new_level = rules.level_for_points(user.lifetime_points).level
    if new_level <= user.level:
        return
    User.objects.filter(pk=user.pk, level__lt=new_level).update(level=new_level)
    user.level = new_level
    for threshold, slug in rules.LEVEL_ACHIEVEMENTS:
        if new_level >= threshold:
            achievement_unlock(user=user, achievement_id=slug, now=now)


# --- achievements -------------------------------------------------------------------
def achievements_ensure() -> int:
    """Seeder: create the 15 achievements that are missing (staff edits are kept)."""
    created = 0
    for order, definition in enumerate(rules.ACHIEVEMENTS):
        _obj, was_created = Achievement.objects.get_or_create(
            id=definition.id,
            defaults={
                "name": definition.name, "description": definition.description, "icon": definition.icon,
                "category": definition.category, "points_reward": definition.points_reward,
                "rarity": definition.rarity, "sort_order": order,
            },
        )
        created += was_created
    return created


@transaction.atomic
def achievement_unlock(*, user, achievement_id: str, now: datetime | None = None) -> bool:
    """Unlock once and award the achievement's own points once. False if already unlocked, and
    for an account whose e-mail is not verified (it unlocks nothing until then)."""
    if not user_email_verified(user=user):
        return False
    achievement = Achievement.objects.filter(pk=achievement_id).first()
    if achievement is None:
        logger.warning("achievement %s is not seeded; run manage.py seed", achievement_id)
        return False
    if UserAchievement.objects.filter(user_id=user.pk, achievement=achievement).exists():
        return False
    try:
        with transaction.atomic():
            UserAchievement.objects.create(user_id=user.pk, achievement=achievement,
                                           unlocked_at=now or timezone.now())
    except IntegrityError:
        return False
    if achievement.points_reward:
        rewards_award(user=user, action=RewardAction.ACHIEVEMENT_UNLOCKED, points=achievement.points_reward,
                      idempotency_key=achievement.pk, subject=achievement, now=now)
    return True


def _unlock_missing(*, user, slugs: list[str], unlocked: set[str], now: datetime) -> None:
    for slug in slugs:
        if slug not in unlocked and achievement_unlock(user=user, achievement_id=slug, now=now):
            unlocked.add(slug)


def _check_early_adopter(*, user, unlocked: set[str], now: datetime) -> None:
    if "early_adopter" not in unlocked and selectors.user_is_early_adopter(user=user):
        _unlock_missing(user=user, slugs=["early_adopter"], unlocked=unlocked, now=now)


# --- streaks ------------------------------------------------------------------------
@transaction.atomic
def streak_touch(*, user, now: datetime | None = None) -> bool:
    """Record a day of activity (in the user's time zone). False if today was already counted.

    Consecutive day: +1; a gap: back to 1; the longest is kept. Every 7th consecutive day
    pays the streak milestone (once per streak day); 7 and 30 unlock achievements.
    """
    now = now or timezone.now()
    today = user_local_date(user, now)
    row = (User.objects.select_for_update(no_key=True).filter(pk=user.pk)
           .values("last_active_date", "current_streak", "longest_streak").get())
    last = row["last_active_date"]
    if last is not None and last >= today:
        return False
    current = row["current_streak"] + 1 if last == today - timedelta(days=1) else 1
    longest = max(row["longest_streak"], current)
    User.objects.filter(pk=user.pk).update(current_streak=current, longest_streak=longest, last_active_date=today)
    user.current_streak, user.longest_streak, user.last_active_date = current, longest, today

    if current % rules.STREAK_MILESTONE_EVERY == 0:
        rewards_award(user=user, action=RewardAction.STREAK_MILESTONE, points=rules.POINTS_STREAK_MILESTONE,
                      idempotency_key=today.isoformat(), subject=("streak", current), now=now)
    unlocked = selectors.unlocked_achievement_ids(user=user)
    _unlock_missing(user=user, slugs=[slug for days, slug in rules.STREAK_ACHIEVEMENTS if current >= days],
                    unlocked=unlocked, now=now)
    challenges_update(user=user, now=now, kinds={"streak"})
    return True


def streaks_refresh(*, now: datetime | None = None) -> int:
    """Daily: streaks of users with no activity yesterday or today (their local dates) go to 0.

    One UPDATE per time zone in use, so "yesterday" is right for every user.
    """
    now = now or timezone.now()
    reset = 0
    zones = (User.objects.filter(current_streak__gt=0).values_list("time_zone", flat=True)
             .distinct().order_by())
    for zone_name in list(zones):
        local_today = now.astimezone(zone_named(zone_name)).date()
        reset += User.objects.filter(
            time_zone=zone_name, current_streak__gt=0, last_active_date__lt=local_today - timedelta(days=1)
        ).update(current_streak=0)
    # rows without a date cannot be continued either
    reset += User.objects.filter(current_streak__gt=0, last_active_date__isnull=True).update(current_streak=0)
    logger.info("streaks refreshed: %d reset", reset)
    return reset


# --- weekly challenges --------------------------------------------------------------
@transaction.atomic
def challenges_generate_week(*, now: datetime | None = None) -> list[WeeklyChallenge]:
    """Draw 3 of the 4 kinds for the UTC week containing `now`. Idempotent: an existing
    week is returned as is. The draw is seeded by the week, so even two concurrent runs pick
    the same kinds and the unique (week_start, kind) keeps one set."""
    now = now or timezone.now()
    week_start, starts_at, ends_at = selectors.week_bounds(now)
    existing = list(selectors.challenges_for_week(week_start=week_start))
    if existing:
        return existing
    kinds = random.Random(week_start.toordinal()).sample(sorted(rules.CHALLENGES), rules.CHALLENGES_PER_WEEK)
    WeeklyChallenge.objects.bulk_create(
        [WeeklyChallenge(kind=kind, week_start=week_start, starts_at=starts_at, ends_at=ends_at,
                         target=rules.CHALLENGES[kind].target, points_reward=rules.CHALLENGES[kind].points_reward)
         for kind in kinds],
        ignore_conflicts=True,
    )
    created = list(selectors.challenges_for_week(week_start=week_start))
    logger.info("weekly challenges for %s: %s", week_start, [c.kind for c in created])
    return created


def challenges_current(*, now: datetime | None = None) -> list[WeeklyChallenge]:
    """This week's challenges (generated if the Monday task has not run yet)."""
    now = now or timezone.now()
    existing = list(selectors.challenges_for_week(week_start=selectors.week_bounds(now)[0]))
    return existing or challenges_generate_week(now=now)


@transaction.atomic
def challenges_update(*, user, now: datetime | None = None, kinds: set[str] | None = None,
                      at: datetime | None = None) -> list[WeeklyChallenge]:
    """Recompute the user's progress on the challenges of the week containing `at` (default now);
    a challenge reached for the first time pays its points once. Returns those completed now."""
    now = now or timezone.now()
    completed = []
    for challenge in challenges_current(now=at or now):
        if kinds is not None and challenge.kind not in kinds:
            continue
        value = min(selectors.challenge_measure(user=user, challenge=challenge, now=at or now), challenge.target)
        progress, _created = UserChallengeProgress.objects.get_or_create(user_id=user.pk, challenge=challenge)
        if value > progress.progress:
            UserChallengeProgress.objects.filter(pk=progress.pk, progress__lt=value).update(progress=value)
        if value >= challenge.target and progress.completed_at is None:
            if UserChallengeProgress.objects.filter(pk=progress.pk, completed_at__isnull=True).update(
                completed_at=now
            ):
                rewards_award(user=user, action=RewardAction.CHALLENGE_COMPLETED, points=challenge.points_reward,
                              idempotency_key=str(challenge.pk), subject=challenge, now=now)
                completed.append(challenge)
    return completed


# --- event handlers -----------------------------------------------------------------
def _conversion_count_achievements(*, user) -> list[str]:
    """The achievements the user's completed conversions as a whole have earned (counts, formats,
    categories); the per-conversion ones (big file, speed) are judged when each one completes."""
    stats = selectors.conversion_stats(user=user)
    wanted = [slug for count, slug in rules.CONVERSION_COUNT_ACHIEVEMENTS if stats.completed >= count]
    if stats.target_formats >= rules.FORMAT_EXPLORER_TARGETS:
        wanted.append("format_explorer")
    if rules.ALL_ROUNDER_CATEGORIES <= stats.categories:
        wanted.append("all_rounder")
    return wanted


@transaction.atomic
def rewards_on_conversion_completed(*, conversion_id, now: datetime | None = None) -> bool:
    """+10 per completed conversion (+50 bonus on the first ever), a streak day, achievements,
    challenge progress. Anonymous conversions earn nothing. False if already handled."""
    conversion = conversion_get_completed_of_user(conversion_id=conversion_id)
    if conversion is None:
        return False
    user = conversion.user
    now = now or timezone.now()
    _lock_user(user)
    if not rewards_award(user=user, action=RewardAction.CONVERSION_COMPLETED, points=rules.POINTS_CONVERSION,
                         idempotency_key=str(conversion.pk), subject=conversion, now=now):
        return False
    rewards_award(user=user, action=RewardAction.FIRST_CONVERSION, points=rules.POINTS_FIRST_CONVERSION,
                  idempotency_key="first", subject=conversion, now=now)
    streak_touch(user=user, now=now)

    finished_at = conversion.finished_at or now
    unlocked = selectors.unlocked_achievement_ids(user=user)
    wanted = _conversion_count_achievements(user=user)
    if conversion.source.size > rules.BIG_FILE_ACHIEVEMENT_BYTES:
        wanted.append("big_file")
    if "speed_demon" not in unlocked and selectors.conversions_in_window(
        user=user, finished_at=finished_at, seconds=rules.SPEED_DEMON_WINDOW_SECONDS
    ) >= rules.SPEED_DEMON_COUNT:
        wanted.append("speed_demon")
    _unlock_missing(user=user, slugs=wanted, unlocked=unlocked, now=now)
    _check_early_adopter(user=user, unlocked=unlocked, now=now)
    challenges_update(user=user, now=now, kinds={"conversions", "formats", "big_files"}, at=finished_at)
    return True


@transaction.atomic
def rewards_on_login(*, user, now: datetime | None = None) -> bool:
    """+5 once per user-local day, a streak day. False if today's login was already paid."""
    now = now or timezone.now()
    _lock_user(user)
    paid = rewards_award(user=user, action=RewardAction.DAILY_LOGIN, points=rules.POINTS_DAILY_LOGIN,
                         idempotency_key=user_local_date(user, now).isoformat(), now=now)
    streak_touch(user=user, now=now)
    _check_early_adopter(user=user, unlocked=selectors.unlocked_achievement_ids(user=user), now=now)
    return paid


def payment_points(amount_eur) -> int:
    """10 points per EUR, floored to whole points."""
    amount = Decimal(str(amount_eur))
    return max(0, int((amount * rules.POINTS_PER_EUR).to_integral_value(rounding=ROUND_FLOOR)))


@transaction.atomic
def rewards_on_payment(*, transaction_id, user_id, amount_eur, now: datetime | None = None) -> bool:
    """10 points per EUR (floored), once per transaction; unlocks first_payment."""
    if not user_id:
        return False
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return False
    now = now or timezone.now()
    amount = Decimal(str(amount_eur)).quantize(Decimal("0.01"))
    _lock_user(user)
    if not rewards_award(user=user, action=RewardAction.PAYMENT, points=payment_points(amount),
                         idempotency_key=str(transaction_id), subject=("transaction", transaction_id),
                         amount_eur=amount, now=now):
        return False
    achievement_unlock(user=user, achievement_id="first_payment", now=now)
    return True


def _safely(handler, name: str):
    """Event handlers run inside the publisher's transaction: a rewards failure is logged and
    rolled back to a savepoint, never allowed to fail the conversion, login or payment."""

    def run(**payload):
        try:
            with transaction.atomic():
                handler(**payload)
        except Exception:  # rewards must not break the publisher
            logger.exception("rewards handler for %s failed (%s)", name, payload)

    return run


def on_conversion_completed(*, conversion_id) -> None:
    rewards_on_conversion_completed(conversion_id=conversion_id)


def on_user_logged_in(*, user) -> None:
    rewards_on_login(user=user)


def on_payment_succeeded(*, transaction_id, user_id=None, amount_eur=None, **_extra) -> None:
    if amount_eur is not None:
        rewards_on_payment(transaction_id=transaction_id, user_id=user_id, amount_eur=amount_eur)


@transaction.atomic
def rewards_on_email_verified(*, user, now: datetime | None = None) -> bool:
    """The account's e-mail is verified: what was held back is credited as ONE ledger row
    (EMAIL_VERIFIED, key "email_verified": once per account, however often it verifies), then
    the achievements the completed conversions have earned and early_adopter are unlocked (each pays
    its own points, as always). True when the catch-up row was written now."""
    now = now or timezone.now()
    _lock_user(user)
    credited = False
    held = HeldReward.objects.filter(user_id=user.pk, credited_at__isnull=True)
    totals = held.aggregate(points=Sum("points"), rows=Count("id"))
    if totals["points"]:
        credited = rewards_award(user=user, action=RewardAction.EMAIL_VERIFIED, points=totals["points"],
                                 idempotency_key="email_verified", subject=("held_rewards", totals["rows"]),
                                 now=now)
        if credited:
            held.update(credited_at=now)
    unlocked = selectors.unlocked_achievement_ids(user=user)
    _unlock_missing(user=user, slugs=_conversion_count_achievements(user=user), unlocked=unlocked, now=now)
    _check_early_adopter(user=user, unlocked=unlocked, now=now)
    return credited


def on_email_verified(*, user, **_extra) -> None:
    rewards_on_email_verified(user=user)


def event_handlers() -> dict:
    return {
        "conversion_completed": _safely(on_conversion_completed, "conversion_completed"),
        "user_logged_in": _safely(on_user_logged_in, "user_logged_in"),
        "payment_succeeded": _safely(on_payment_succeeded, "payment_succeeded"),
        "email_verified": _safely(on_email_verified, "email_verified"),
    }


# --- user actions: feedback, share, redeem -------------------------------------------
@dataclass(frozen=True)
class AwardResult:
    awarded: bool
    points: int
    total_points: int


def rewards_feedback(*, user, conversion_id) -> AwardResult:
    """15 points for feedback on one of the user's completed conversions, once per conversion."""
    if not user_email_verified(user=user):
        raise _not_verified()
    conversion = selectors.completed_conversions(user=user).filter(pk=conversion_id).first()
    if conversion is None:
        raise ApplicationError(_("Conversión no encontrada."), code="not_found", status=404,
                               details={"conversion_id": [_("Conversión no encontrada.")]})
    awarded = rewards_award(user=user, action=RewardAction.FEEDBACK, points=rules.POINTS_FEEDBACK,
                            idempotency_key=str(conversion.pk), subject=conversion)
    return AwardResult(awarded=awarded, points=rules.POINTS_FEEDBACK if awarded else 0,
                       total_points=user.total_points)


def rewards_share(*, user, now: datetime | None = None) -> AwardResult:
    """20 points for sharing, once per user-local day."""
    if not user_email_verified(user=user):
        raise _not_verified()
    now = now or timezone.now()
    awarded = rewards_award(user=user, action=RewardAction.SHARE, points=rules.POINTS_SHARE,
                            idempotency_key=user_local_date(user, now).isoformat(), now=now)
    user.refresh_from_db(fields=["total_points"])
    return AwardResult(awarded=awarded, points=rules.POINTS_SHARE if awarded else 0,
                       total_points=user.total_points)


@dataclass(frozen=True)
class Redemption:
    points_redeemed: int
    credits_awarded: int
    remaining_points: int
    total_credits: int


def _validate_redemption(points) -> int:
    try:
        value = int(Decimal(str(points)))
        if Decimal(str(points)) != value:
            raise ValueError
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ApplicationError(_("Los puntos deben ser un número entero."), code="invalid_points",
                               details={"points": [_("Los puntos deben ser un número entero.")]}) from exc
    if value < rules.MIN_REDEMPTION:
        message = _("El mínimo de canje es de %(min)d puntos.") % {"min": rules.MIN_REDEMPTION}
        raise ApplicationError(message, code="below_minimum", details={"points": [message]})
    if value % rules.POINTS_PER_CREDIT:
        message = _("Los puntos deben ser múltiplo de %(n)d (100 puntos = 1 crédito).") % {
            "n": rules.POINTS_PER_CREDIT}
        raise ApplicationError(message, code="not_multiple", details={"points": [message]})
    return value


def rewards_redeem_credits(*, user, points) -> Redemption:
    """100 points = 1 conversion credit; at least 100 and a multiple of 100 (anything else is
    refused with 400, never rounded). The balance can never go negative, even under
    concurrent requests: the debit is a conditional UPDATE (total_points >= points). An account whose
    e-mail is not verified cannot redeem (403 email_not_verified)."""
    if not user_email_verified(user=user):
        raise _not_verified()
    value = _validate_redemption(points)
    credits = value // rules.POINTS_PER_CREDIT
    key = uuid.uuid4().hex
    with transaction.atomic():
        rewards_award(user=user, action=RewardAction.REDEMPTION, points=-value,
                      idempotency_key=key, subject=("credits", credits))
        credits_grant(user=user, credits=credits, reason=CreditReason.REDEMPTION, idempotency_key=key,
                      subject=("points", value))
    user.refresh_from_db(fields=["total_points", "conversion_credits"])
    return Redemption(points_redeemed=value, credits_awarded=credits, remaining_points=user.total_points,
                      total_credits=user.conversion_credits)


def rewards_admin_grant(*, user, points: int, reason: str = "") -> bool:
    """Staff grant (admin action): positive points, its own ledger row."""
    if int(points) <= 0:
        raise ApplicationError(_("Los puntos deben ser positivos."), code="invalid_points")
    return rewards_award(user=user, action=RewardAction.ADMIN_GRANT, points=int(points),
                         idempotency_key=uuid.uuid4().hex, subject=("admin", reason[:64]) if reason else None)

