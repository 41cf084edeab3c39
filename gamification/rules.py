"""The numbers of the rewards system (the seed's "Sistema de Recompensas"), in one place.

Pure data: levels, point values, the 15 achievements, the 4 kinds of weekly challenge.
Names are marked with gettext_noop (Spanish source) and translated where they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

# Marked for makemessages only (gettext_noop): the Spanish text is stored; views translate it.
from django.utils.translation import gettext_noop as _

# --- points per action --------------------------------------------------------------
POINTS_CONVERSION = 10
POINTS_FIRST_CONVERSION = 50
POINTS_DAILY_LOGIN = 5
POINTS_STREAK_MILESTONE = 25  # every 7th consecutive day
STREAK_MILESTONE_EVERY = 7
POINTS_PER_EUR = 10  # floored to whole points
POINTS_FEEDBACK = 15  # once per conversion
POINTS_SHARE = 20  # once per user-local day

# --- redemption ---------------------------------------------------------------------
POINTS_PER_CREDIT = 100
MIN_REDEMPTION = 100

MB = 1024 * 1024
BIG_FILE_ACHIEVEMENT_BYTES = 100 * MB  # "Domador de Gigantes": strictly more than 100 MB
BIG_FILE_CHALLENGE_BYTES = 50 * MB  # "Archivos Grandes": strictly more than 50 MB
SPEED_DEMON_COUNT = 5  # completed conversions ...
SPEED_DEMON_WINDOW_SECONDS = 3600  # ... within one hour
EARLY_ADOPTER_USERS = 100


@dataclass(frozen=True)
class Level:
    level: int
    min_points: int
    title: str


LEVELS: tuple[Level, ...] = (
    Level(1, 0, _("Novato Converter")),
    Level(2, 100, _("Explorador Digital")),
    Level(3, 300, _("Convertidor Hábil")),
    Level(4, 600, _("Maestro de Formatos")),
    Level(5, 1000, _("Experto en Conversión")),
    Level(6, 1500, _("Gurú de Archivos")),
    # Not "Leyenda Digital": the seed's API example pins that name on the 500-conversions achievement.
    Level(7, 2500, _("Leyenda Converter")),
    Level(8, 4000, _("Campeón Converter")),
    Level(9, 6000, _("Maestro Supremo")),
    Level(10, 10000, _("Emperador de Conversiones")),
)


def level_for_points(lifetime_points: int) -> Level:
    current = LEVELS[0]
    for level in LEVELS:
        if lifetime_points >= level.min_points:
            current = level
    return current


def level_by_number(number: int) -> Level:
    return LEVELS[max(1, min(number, len(LEVELS))) - 1]


def next_level(level: Level) -> Level | None:
    return LEVELS[level.level] if level.level < len(LEVELS) else None


def level_progress_percentage(lifetime_points: int, level: Level) -> float:
    """Share of the way from the current level's threshold to the next one (100.0 at the top)."""
    upcoming = next_level(level)
    if upcoming is None:
        return 100.0
    span = upcoming.min_points - level.min_points
    done = min(max(lifetime_points - level.min_points, 0), span)
    return round(done * 100 / span, 1)


# --- achievements -------------------------------------------------------------------
@dataclass(frozen=True)
class AchievementDef:
    id: str
    name: str
    description: str
    icon: str
    category: str
    points_reward: int
    rarity: str


ACHIEVEMENTS: tuple[AchievementDef, ...] = (
    AchievementDef("first_conversion", _("Primer Paso"), _("Completa tu primera conversión"),
                   "🎯", "milestone", 50, "common"),
    AchievementDef("conversion_veteran", _("Veterano Converter"), _("Completa 10 conversiones"),
                   "⭐", "milestone", 100, "common"),
    # Achievement names never repeat a level title (level 5 is "Experto en Conversión", level 4
    # "Maestro de Formatos", level 10 "Emperador de Conversiones"): these three are renamed.
    AchievementDef("conversion_expert", _("Medio Centenar"), _("Completa 50 conversiones"),
                   "🏆", "milestone", 250, "rare"),
    AchievementDef("conversion_master", _("Maestro de Conversiones"), _("Completa 100 conversiones"),
                   "👑", "milestone", 500, "epic"),
    AchievementDef("conversion_legend", _("Leyenda Digital"), _("Completa 500 conversiones"),
                   "💎", "milestone", 1000, "legendary"),
    AchievementDef("week_streak", _("Semana Perfecta"), _("Mantén una racha de 7 días consecutivos"),
                   "🔥", "streak", 150, "uncommon"),
    AchievementDef("month_streak", _("Mes Imparable"), _("Mantén una racha de 30 días consecutivos"),
                   "🚀", "streak", 750, "epic"),
    AchievementDef("level_5", _("Mitad del Camino"), _("Alcanza el nivel 5"),
                   "🎖️", "level", 200, "rare"),
    AchievementDef("level_10", _("En la Cima"), _("Alcanza el nivel 10"),
                   "👑", "level", 1000, "legendary"),
    AchievementDef("big_file", _("Domador de Gigantes"), _("Convierte un archivo de más de 100 MB"),
                   "🐘", "special", 100, "uncommon"),
    AchievementDef("speed_demon", _("Demonio de la Velocidad"), _("Completa 5 conversiones en una hora"),
                   "⚡", "special", 150, "rare"),
    AchievementDef("early_adopter", _("Adoptador Temprano"), _("Sé uno de los primeros 100 usuarios"),
                   "🌟", "special", 500, "epic"),
    AchievementDef("format_explorer", _("Explorador de Formatos"),
                   _("Convierte a 5 formatos de destino diferentes"), "🧭", "special", 150, "uncommon"),
    AchievementDef("all_rounder", _("Todoterreno"),
                   _("Convierte una imagen, un documento, un audio y un vídeo"), "🎨", "special", 200, "rare"),
    AchievementDef("first_payment", _("Primer Pago"), _("Realiza tu primera conversión de pago"),
                   "💳", "milestone", 50, "common"),
)
TOTAL_ACHIEVEMENTS = len(ACHIEVEMENTS)  # 15

# completed conversions -> achievement
CONVERSION_COUNT_ACHIEVEMENTS: tuple[tuple[int, str], ...] = (
    (1, "first_conversion"), (10, "conversion_veteran"), (50, "conversion_expert"),
    (100, "conversion_master"), (500, "conversion_legend"),
)
STREAK_ACHIEVEMENTS: tuple[tuple[int, str], ...] = ((7, "week_streak"), (30, "month_streak"))
LEVEL_ACHIEVEMENTS: tuple[tuple[int, str], ...] = ((5, "level_5"), (10, "level_10"))
FORMAT_EXPLORER_TARGETS = 5
ALL_ROUNDER_CATEGORIES = frozenset({"image", "document", "audio", "video"})


# --- weekly challenges --------------------------------------------------------------
@dataclass(frozen=True)
class ChallengeDef:
    kind: str
    title: str
    description: str
    target: int
    points_reward: int


CHALLENGES: dict[str, ChallengeDef] = {
    c.kind: c
    for c in (
        ChallengeDef("conversions", _("Convertidor Activo"), _("Completa 10 conversiones esta semana"), 10, 150),
        ChallengeDef("formats", _("Explorador de Formatos"),
                     _("Convierte a 5 formatos diferentes esta semana"), 5, 200),
        ChallengeDef("streak", _("Racha Semanal"), _("Mantén la actividad 7 días consecutivos esta semana"),
                     7, 250),
        ChallengeDef("big_files", _("Archivos Grandes"), _("Convierte 3 archivos de más de 50 MB esta semana"),
                     3, 180),
    )
}
CHALLENGES_PER_WEEK = 3
