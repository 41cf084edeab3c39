"""Spanish (source) labels for model fields that have no verbose_name, so the admin's column headers
and filter titles follow the reader's language instead of showing the English field name
("STATUS", "PAID BY"). Only plain, auto-derived names are replaced; a translated verbose_name wins."""

from django import template
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

register = template.Library()

LABELS = {
    "achievement": _("logro"), "active": _("activo"), "adopted at": _("adoptada el"),
    "adopted by": _("adoptada por"), "amount": _("importe"), "amount eur": _("importe (EUR)"),
    "applied at": _("aplicada el"), "attempts": _("intentos"),
    "cancel at period end": _("cancela al final del periodo"),
    "challenge": _("desafío"), "completed at": _("completado el"), "conversion": _("conversión"),
    "conversion credits": _("créditos de conversión"), "conversion type": _("tipo de conversión"),
    "created": _("creada"), "created at": _("creado el"), "currency": _("moneda"),
    "current period end": _("fin del periodo"), "current period start": _("inicio del periodo"),
    "date joined": _("fecha de alta"), "engine": _("motor"), "event id": _("id del evento"),
    "event type": _("tipo de evento"), "expires at": _("caduca el"), "file format": _("formato"),
    "filename": _("nombre de archivo"), "finished at": _("terminada el"), "id": _("id"),
    "is active": _("activo"), "is deleted": _("eliminado"), "is staff": _("es personal"), "kind": _("tipo"),
    "language": _("idioma"), "last response code": _("último código de respuesta"),
    "last seen": _("visto por última vez"),
    "length": _("longitud"), "level": _("nivel"), "max file size mb": _("tamaño máximo (MB)"),
    "monthly conversions": _("conversiones al mes"), "name": _("nombre"), "offset": _("desplazamiento"),
    "original filename": _("nombre original"), "original format": _("formato original"),
    "paid by": _("pagado con"), "plan": _("plan"), "prefix": _("prefijo"), "price eur": _("precio (EUR)"),
    "priority": _("prioridad"), "priority queue": _("cola prioritaria"), "processed at": _("procesado el"),
    "progress": _("progreso"), "provider": _("proveedor"), "quality": _("calidad"), "received at": _("recibido el"),
    "refunded": _("reembolsado"), "refunded amount": _("importe reembolsado"),
    "retention hours": _("horas de retención"),
    "revoked": _("revocada"), "session": _("sesión"), "session id": _("id de sesión"), "size": _("tamaño"),
    "slug": _("identificador"), "sort order": _("orden"), "status": _("estado"),
    "stripe customer id": _("id de cliente en Stripe"), "subject id": _("id del objeto"),
    "subject type": _("tipo de objeto"), "target format": _("formato de destino"),
    "total points": _("puntos totales"), "transaction": _("transacción"), "type": _("tipo"), "url": _("URL"),
    "user": _("usuario"), "email": _("correo electrónico"), "first name": _("nombre"), "last name": _("apellidos"),
    "action": _("acción"), "points": _("puntos"), "delta": _("variación"), "balance after": _("saldo después"),
    "reason": _("motivo"), "category": _("categoría"), "rarity": _("rareza"),
    "points reward": _("puntos de recompensa"),
    "icon": _("icono"), "week start": _("inicio de semana"), "starts at": _("empieza el"), "ends at": _("termina el"),
    "target": _("objetivo"), "unlocked at": _("desbloqueado el"), "scopes": _("permisos"),
    "last used at": _("último uso"), "expiry date": _("caducidad"), "refunded at": _("reembolsado el"),
}


@register.filter
def admin_label(text):
    """The translated label for an auto-derived field name; anything else unchanged."""
    if isinstance(text, Promise) or not isinstance(text, str):
        return text
    return LABELS.get(text.strip().lower(), text)
