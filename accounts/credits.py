"""The only writer of `User.conversion_credits`: every change is a conditional update of the balance
plus one CreditLedgerEntry with a unique (user, reason, idempotency key), in one transaction."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from anclora.core.errors import ApplicationError

from .models import CreditLedgerEntry, CreditReason, User

__all__ = ["CreditReason", "credits_change", "credits_grant", "credits_spend"]


def _insufficient() -> ApplicationError:
    message = _("No tienes créditos suficientes.")
    return ApplicationError(message, code="insufficient_credits", details={"credits": [message]})


def credits_change(*, user_id, delta: int, reason: str, idempotency_key: str,
                   subject: tuple[str, object] | None = None) -> int | None:
    """Apply `delta` once per (user, reason, key): the new balance, or None when that key was already applied.

    A debit larger than the balance raises 400 `insufficient_credits` and changes nothing.
    """
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0:
        raise ApplicationError(_("El número de créditos debe ser positivo."), code="invalid_credits",
                               details={"credits": [_("El número de créditos debe ser positivo.")]})
    subject_type, subject_id = (str(subject[0])[:32], str(subject[1])[:64]) if subject else ("", "")
    try:
        with transaction.atomic():
            entry = CreditLedgerEntry.objects.create(
                user_id=user_id, delta=delta, balance_after=0, reason=reason,
                idempotency_key=str(idempotency_key)[:128], subject_type=subject_type, subject_id=subject_id)
            balances = User.objects.filter(pk=user_id)
            if delta < 0:
                balances = balances.filter(conversion_credits__gte=-delta)
            if not balances.update(conversion_credits=F("conversion_credits") + delta):
                raise _insufficient()
            balance = User.objects.values_list("conversion_credits", flat=True).get(pk=user_id)
            CreditLedgerEntry.objects.filter(pk=entry.pk).update(balance_after=balance)
    except IntegrityError:
        if CreditLedgerEntry.objects.filter(user_id=user_id, reason=reason,
                                            idempotency_key=str(idempotency_key)[:128]).exists():
            return None
        raise
    return balance


def _positive(credits) -> int:
    if not isinstance(credits, int) or isinstance(credits, bool) or credits <= 0:
        raise ApplicationError(_("El número de créditos debe ser positivo."), code="invalid_credits",
                               details={"credits": [_("El número de créditos debe ser positivo.")]})
    return credits


def credits_grant(*, user: User, credits: int, reason: str, idempotency_key: str,
                  subject: tuple[str, object] | None = None) -> int | None:
    balance = credits_change(user_id=user.pk, delta=_positive(credits), reason=reason,
                             idempotency_key=idempotency_key, subject=subject)
    if balance is not None:
        user.conversion_credits = balance
    return balance


def credits_spend(*, user: User, credits: int, reason: str, idempotency_key: str,
                  subject: tuple[str, object] | None = None) -> int | None:
    """Take credits, never below zero whatever runs concurrently (400 `insufficient_credits` when short)."""
    balance = credits_change(user_id=user.pk, delta=-_positive(credits), reason=reason,
                             idempotency_key=idempotency_key, subject=subject)
    if balance is not None:
        user.conversion_credits = balance
    return balance
