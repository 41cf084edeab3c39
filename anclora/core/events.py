"""Domain events: the one documented place where apps hear about each other.

Apps depend on each other one way (docs/architecture.md: accounts <- storage <- conversions <-
billing, uploads, webhooks, gamification <- backoffice; anclora/core knows no domain). When a
lower app must let higher ones react (an account is deleted, an anonymous session is adopted,
a conversion completes), it publishes an event here; the interested apps subscribe in their
AppConfig.ready(). Handlers run synchronously inside the publisher's transaction, so they must
only do database work and defer side effects with transaction.on_commit.

Events:
- ``anonymous_session_adopted``(session_id, user): move the session's rows to the user.
- ``user_deleting``(user): remove what the user owns (bytes included) before the row goes.
- ``user_deactivated``(user): published by accounts.services.user_deactivate after the account is
  switched off; apikeys revokes the user's API keys.
- ``conversion_completed``(conversion_id): gamification rewards it; webhooks records a signed
  ``conversion.completed`` delivery (and ``batch.completed`` after commit when the batch has ended).
- ``conversion_failed``(conversion_id): give back what the conversion consumed (also published on
  cancel); webhooks records ``conversion.failed``.
- ``user_logged_in``(user): published by accounts.services.user_login (page and API);
  gamification pays the daily login points and counts a streak day.
- ``payment_succeeded``(transaction_id, user_id, amount_eur: Decimal): published by billing
  once per transaction when its payment completes (user_id None for anonymous payers);
  gamification pays 10 points per EUR (floored), once per transaction_id.
- ``email_verified``(user, first_verification: bool): published by accounts.verification.email_verify
  when a link is opened (first_verification: the account had never been verified; False when a new
  address replaced a verified one); gamification credits the points held back while unverified (one
  ledger row, once) and checks early_adopter.
Gamification handles conversion_completed, user_logged_in and payment_succeeded inside a
savepoint and logs its own failures, so rewards never fail the publisher.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

_subscribers: dict[str, list[Callable[..., None]]] = defaultdict(list)


def subscribe(event: str, handler: Callable[..., None]) -> None:
    if handler not in _subscribers[event]:
        _subscribers[event].append(handler)


def publish(event: str, **payload) -> None:
    for handler in list(_subscribers[event]):
        handler(**payload)
