"""Reads for rewards: profile, leaderboard, achievements, challenges, history, and the
conversion statistics the awarding rules look at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.selectors import verified_users_q
from conversions.catalog import category_of
from conversions.selectors import conversion_list_completed_for_user

from . import rules
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

User = get_user_model()

PERIODS = ("all_time", "weekly", "monthly")
LEADERBOARD_DEFAULT_LIMIT = 50
LEADERBOARD_MAX_LIMIT = 100


# --- time helpers -------------------------------------------------------------------
def week_bounds(now: datetime) -> tuple[date, datetime, datetime]:
    """(Monday, Monday 00:00:00 UTC, Sunday 23:59:59 UTC) of the UTC week containing now."""
    today = now.astimezone(UTC).date()
    monday = today - timedelta(days=today.weekday())
    starts_at = datetime.combine(monday, time.min, tzinfo=UTC)
    return monday, starts_at, starts_at + timedelta(days=7) - timedelta(seconds=1)


def month_start(now: datetime) -> date:
    return now.astimezone(UTC).date().replace(day=1)


def period_keys(at: datetime) -> list[tuple[str, date]]:
    """The (period, start) roll-up rows a point earned at `at` counts in: its UTC week and month."""
    return [(PeriodPoints.Period.WEEK, week_bounds(at)[0]), (PeriodPoints.Period.MONTH, month_start(at))]


LEADERBOARD_PERIODS = {"weekly": PeriodPoints.Period.WEEK, "monthly": PeriodPoints.Period.MONTH}


def period_start(period: str, now: datetime) -> date | None:
    """First day of the leaderboard period: Monday of this UTC week, or the 1st of this UTC month;
    None for all_time."""
    if period == "weekly":
        return week_bounds(now)[0]
    if period == "monthly":
        return month_start(now)
    return None


# --- conversions the rules count ----------------------------------------------------
def completed_conversions(*, user) -> QuerySet:
    return conversion_list_completed_for_user(user=user)


@dataclass(frozen=True)
class ConversionStats:
    completed: int
    target_formats: int
    categories: frozenset[str]


def conversion_stats(*, user) -> ConversionStats:
    qs = completed_conversions(user=user)
    completed = qs.count()
    targets = qs.values("target_format").distinct().count()
    sources = qs.values_list("original_format", flat=True).distinct()
    categories = frozenset(c for c in (category_of(fmt) for fmt in sources) if c)
    return ConversionStats(completed=completed, target_formats=targets, categories=categories)


def conversions_in_window(*, user, finished_at: datetime, seconds: int) -> int:
    return completed_conversions(user=user).filter(
        finished_at__gt=finished_at - timedelta(seconds=seconds), finished_at__lte=finished_at
    ).count()


def user_is_early_adopter(*, user) -> bool:
    """Among the first EARLY_ADOPTER_USERS *verified* accounts, in the order they verified their e-mail
    (accounts that predate verification count as verified when they joined); the count stops at the
    limit. An unverified account is not one."""
    verified_at = (User.objects.filter(verified_users_q(), pk=user.pk)
                   .values_list("email_verified_at", flat=True).first())
    if verified_at is None:
        return False
    earlier = User.objects.filter(verified_users_q(), email_verified_at__lt=verified_at)[
        : rules.EARLY_ADOPTER_USERS].count()
    return earlier < rules.EARLY_ADOPTER_USERS


def unlocked_achievement_ids(*, user) -> set[str]:
    return set(UserAchievement.objects.filter(user=user).values_list("achievement_id", flat=True))


def challenge_measure(*, user, challenge: WeeklyChallenge, now: datetime) -> int:
    """The caller's current value for a challenge, recomputed from the facts (idempotent)."""
    window_end = challenge.starts_at + timedelta(days=7)
    done = completed_conversions(user=user).filter(finished_at__gte=challenge.starts_at, finished_at__lt=window_end)
    if challenge.kind == "conversions":
        return done.count()
    if challenge.kind == "formats":
        return done.values("target_format").distinct().count()
    if challenge.kind == "big_files":
        return done.filter(source__size__gt=rules.BIG_FILE_CHALLENGE_BYTES).count()
    if challenge.kind == "streak":
        # consecutive active days that fall inside this week
        days_in_week = (now.astimezone(UTC).date() - challenge.week_start).days + 1
        return max(0, min(user.current_streak, days_in_week, 7))
    return 0


# --- presentation helpers -----------------------------------------------------------
def display_name(user) -> str:
    """"María G.": first name and the initial of the last name; else a masked e-mail local part."""
    first = (user.first_name or "").strip()
    last = (user.last_name or "").strip()
    if first:
        return f"{first} {last[0].upper()}." if last else first
    local = (user.email or "").split("@", 1)[0]
    return f"{local[:2]}***" if local else "***"


def level_dict(level: rules.Level | None) -> dict | None:
    if level is None:
        return None
    return {"level": level.level, "min_points": level.min_points, "title": _(level.title)}


def achievement_dict(achievement: Achievement) -> dict:
    return {
        "id": achievement.id,
        "name": _(achievement.name),
        "description": _(achievement.description),
        "icon": achievement.icon,
        "category": achievement.category,
        "points_reward": achievement.points_reward,
        "rarity": achievement.rarity,
    }


# --- profile ------------------------------------------------------------------------
def total_spent_eur(*, user) -> Decimal:
    """What the user paid, from the payment rows of the ledger (each keeps the amount it came from)."""
    total = UserReward.objects.filter(user=user, action=RewardAction.PAYMENT).aggregate(s=Sum("amount_eur"))["s"]
    held = HeldReward.objects.filter(user=user, action=RewardAction.PAYMENT).aggregate(s=Sum("amount_eur"))["s"]
    return ((total or Decimal("0")) + (held or Decimal("0"))).quantize(Decimal("0.01"))


def rewards_profile(*, user) -> dict:
    level = rules.level_for_points(user.lifetime_points)
    # the stored level never drops; show it even if lifetime points were adjusted by staff
    level = max(level, rules.level_by_number(user.level), key=lambda lv: lv.level)
    unlocked = list(UserAchievement.objects.filter(user=user).select_related("achievement"))
    return {
        "user_info": {
            "level": level.level,
            "total_points": user.total_points,
            "lifetime_points": user.lifetime_points,
            "current_streak": user.current_streak,
            "longest_streak": user.longest_streak,
        },
        "level_info": {
            "current": level_dict(level),
            "next": level_dict(rules.next_level(level)),
            "progress_percentage": rules.level_progress_percentage(user.lifetime_points, level),
        },
        "achievements": {
            "unlocked": [{**achievement_dict(ua.achievement), "unlocked_at": ua.unlocked_at} for ua in unlocked],
            "total_unlocked": len(unlocked),
            "total_available": Achievement.objects.count(),
        },
        "statistics": {
            "total_conversions": completed_conversions(user=user).count(),
            "total_spent_eur": total_spent_eur(user=user),
            "member_since": user.date_joined,
        },
    }


# --- leaderboard --------------------------------------------------------------------
def leaderboard_all_time_queryset(*, limit: int) -> QuerySet:
    """Index scan on accounts.User (-lifetime_points, date_joined, id); verified accounts only."""
    return (User.objects.filter(verified_users_q(), is_active=True, lifetime_points__gt=0)
            .order_by("-lifetime_points", "date_joined", "id")
            .only("id", "first_name", "last_name", "email", "level", "lifetime_points", "current_streak",
                  "date_joined")[:limit])


def leaderboard_period_queryset(*, period: str, start: date, limit: int) -> QuerySet:
    """Points earned in the period (the roll-up of positive ledger rows, so redemptions do not
    count): index scan on (period, period_start, -points, user_joined, user); verified accounts only."""
    return (PeriodPoints.objects.filter(verified_users_q(prefix="user__"), period=LEADERBOARD_PERIODS[period],
                                        period_start=start, points__gt=0, user__is_active=True)
            .select_related("user")
            .only("points", "user__id", "user__first_name", "user__last_name", "user__email", "user__level",
                  "user__current_streak")
            .order_by("-points", "user_joined", "user_id")[:limit])


def leaderboard(*, period: str, limit: int, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    limit = max(1, min(limit, LEADERBOARD_MAX_LIMIT))
    start = period_start(period, now)
    if start is None:
        ranked = [(u, u.lifetime_points) for u in leaderboard_all_time_queryset(limit=limit)]
    else:
        ranked = [(row.user, row.points) for row in leaderboard_period_queryset(period=period, start=start,
                                                                                  limit=limit)]
    counts = dict(
        UserAchievement.objects.filter(user_id__in=[u.pk for u, _points in ranked])
        .values("user_id").annotate(n=Count("id")).values_list("user_id", "n")
    )
    entries = [
        {
            "rank": position,
            "user_id": user.pk,
            "username": display_name(user),
            "level": user.level,
            "level_title": _(rules.level_by_number(user.level).title),
            "total_points": points,
            "current_streak": user.current_streak,
            "achievements_count": counts.get(user.pk, 0),
        }
        for position, (user, points) in enumerate(ranked, start=1)
    ]
    return {"period": period, "leaderboard": entries, "total_users": len(entries), "generated_at": now}


# --- achievements -------------------------------------------------------------------
def achievements_for(*, user=None) -> dict:
    achievements = list(Achievement.objects.all())
    unlocked = unlocked_achievement_ids(user=user) if user is not None and user.is_authenticated else set()
    items = [{**achievement_dict(a), "unlocked": a.id in unlocked} for a in achievements]
    return {
        "achievements": items,
        "total_available": len(items),
        "user_unlocked": sum(1 for item in items if item["unlocked"]),
    }


# --- challenges ---------------------------------------------------------------------
def challenges_for_week(*, week_start: date) -> QuerySet[WeeklyChallenge]:
    return WeeklyChallenge.objects.filter(week_start=week_start).order_by("kind")


def challenges_with_progress(*, challenges: list[WeeklyChallenge], user=None) -> list[dict]:
    progress = {}
    if user is not None and user.is_authenticated:
        progress = {p.challenge_id: p for p in UserChallengeProgress.objects.filter(
            user=user, challenge__in=challenges)}
    items = []
    for challenge in challenges:
        definition = rules.CHALLENGES.get(challenge.kind)
        mine = progress.get(challenge.pk)
        value = min(mine.progress, challenge.target) if mine else 0
        items.append({
            "id": challenge.pk,
            "kind": challenge.kind,
            "title": _(definition.title) if definition else challenge.kind,
            "description": _(definition.description) if definition else "",
            "target": challenge.target,
            "points_reward": challenge.points_reward,
            "starts_at": challenge.starts_at,
            "ends_at": challenge.ends_at,
            "progress": value,
            "progress_percentage": round(value * 100 / challenge.target, 1),
            "completed": bool(mine and mine.completed_at),
            "completed_at": mine.completed_at if mine else None,
        })
    return items


# --- history ------------------------------------------------------------------------
def reward_history(*, user) -> QuerySet[UserReward]:
    return UserReward.objects.filter(user=user).order_by("-created_at", "-id")
