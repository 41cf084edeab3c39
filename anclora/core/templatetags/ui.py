"""Presentation helpers for the pages: prices in the locale and human labels for stored keys."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats, translation
from django.utils.translation import gettext_lazy as _

register = template.Library()

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}

# Plan names are stored in the database (seeded in Spanish); these are their translations.
PLAN_NAMES = {"Gratuito": _("Gratuito"), "Básico": _("Básico"), "Pro": _("Pro"), "Enterprise": _("Enterprise")}

LABELS = {
    # pricing: conversion kinds, size tiers, qualities, extras, server load
    "image_to_image": _("Imagen → imagen"),
    "document_to_document": _("Documento → documento"),
    "audio_to_audio": _("Audio → audio"),
    "video_to_video": _("Vídeo → vídeo"),
    "complex": _("Entre tipos (p. ej. vídeo → audio)"),
    "small": _("Pequeño"),
    "medium": _("Mediano"),
    "large": _("Grande"),
    "xlarge": _("Muy grande"),
    "xxl": _("Enorme"),
    "basic": _("Básica"),
    "standard": _("Estándar"),
    "high": _("Alta"),
    "premium": _("Premium"),
    "batch_processing": _("Lote de archivos"),
    "priority": _("Cola prioritaria"),
}
LOAD_LABELS = {"low": _("Carga baja"), "medium": _("Carga media"), "high": _("Carga alta")}


@register.filter
def money(value, currency: str = "EUR") -> str:
    """0,27 € in Spanish, €0.27 in English (the same shape as Intl.NumberFormat in the browser)."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    number = formats.number_format(amount, decimal_pos=2, use_l10n=True)
    code = (currency or "EUR").upper()
    symbol = CURRENCY_SYMBOLS.get(code, code)
    if (translation.get_language() or "es").startswith("en"):
        return f"{symbol}{number}"
    return f"{number}\u00a0{symbol}"


@register.filter
def plan_name(name: str) -> str:
    label = PLAN_NAMES.get(name)
    return str(label) if label is not None else name


@register.filter
def price_label(key: str) -> str:
    label = LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ")


@register.filter
def load_label(key: str) -> str:
    label = LOAD_LABELS.get(key)
    return str(label) if label is not None else key


@register.filter
def retention(hours) -> str:
    """24 horas / 7 días."""
    hours = int(hours or 0)
    if hours >= 48 and hours % 24 == 0:
        days = hours // 24
        return translation.ngettext("%(n)d día", "%(n)d días", days) % {"n": days}
    return translation.ngettext("%(n)d hora", "%(n)d horas", hours) % {"n": hours}
