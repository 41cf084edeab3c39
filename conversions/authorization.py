"""Who pays for a conversion: the one place billing plugs into the conversion flow.

`settings.CONVERSION_AUTHORIZER` names the authorizer class (billing replaces the default).
The flow in `conversions.services.conversion_request` is:

1. ``limits(owner, use_credit, transaction_id)``: the size limit and queue, no side effects,
   before any file is accepted;
2. ``authorize(owner, planned, use_credit, transaction_id)`` inside the transaction that
   creates the jobs: decide and consume (allowance, credit, payment) or raise an
   ApplicationError (402 with the price) — which rolls everything back;
3. ``Authorization.attach(conversions)`` in the same transaction, to link what was consumed;
4. ``checkout_url(owner, refusal)`` when the page without JavaScript got a refusal: where to go
   to pay for it (None when there is nothing to pay; an ApplicationError when it cannot be set up).

A failed or cancelled conversion publishes ``conversion_failed`` (anclora/core/events.py):
the authorizer gives back what it consumed there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.module_loading import import_string

from accounts.owners import Owner
from accounts.selectors import plan_for_user
from anclora.core.errors import ApplicationError


@dataclass(frozen=True)
class Limits:
    max_size_mb: int
    priority: bool


@dataclass(frozen=True)
class PlannedConversion:
    source_format: str
    target_format: str
    size_bytes: int
    quality: str
    name: str = ""  # the uploaded file's name, to say what pays for which file


@dataclass
class Authorization:
    paid_by: str
    priority: bool
    details: dict = field(default_factory=dict)

    def attach(self, conversions) -> None:
        """Link the consumed entitlement to the created conversions (same transaction)."""


class PlanAllowanceAuthorizer:
    """Without billing: every conversion is allowed within the plan's size limit."""

    def limits(self, *, owner: Owner, use_credit: bool = False, transaction_id=None) -> Limits:
        plan = plan_for_user(owner.user)
        return Limits(max_size_mb=min(plan.max_file_size_mb, settings.MAX_UPLOAD_MB),
                      priority=plan.priority_queue)

    def authorize(self, *, owner: Owner, planned: list[PlannedConversion], use_credit: bool = False,
                  transaction_id=None) -> Authorization:
        return Authorization(paid_by="allowance", priority=self.limits(owner=owner).priority)

    def checkout_url(self, *, owner: Owner, refusal: ApplicationError) -> str | None:
        return None  # nothing is ever refused for payment here


def get_authorizer():
    return import_string(settings.CONVERSION_AUTHORIZER)()
