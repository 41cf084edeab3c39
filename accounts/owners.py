"""Who owns a row: a user or an anonymous session (exactly what the request carries)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from . import services as account_services
from .abuse import address_bucket, anonymous_session_slot
from .models import AnonymousSession, User


@dataclass(frozen=True)
class Owner:
    user: User | None = None
    session: AnonymousSession | None = None
    # The client address bucket of the request that named this owner (accounts.abuse): billing bounds
    # the free anonymous allowance per address, uploads the URL imports in flight. None when not from a
    # request.
    address: str | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.user is None and self.session is None:
            raise ValueError("an owner needs a user or a session")

    @property
    def is_user(self) -> bool:
        return self.user is not None

    def filter(self) -> Q:
        """Rows owned by this caller (fields `user` and `session`)."""
        if self.user is not None:
            return Q(user=self.user)
        return Q(session=self.session, user__isnull=True)

    def fields(self) -> dict:
        return {"user": self.user, "session": None if self.user else self.session}


SESSION_KEY = "anon_session_id"


def session_id_from_request(request) -> str | None:
    """session_id from the body, the query string, the X-Session-Id header or the page session."""
    value = None
    data = getattr(request, "data", None)
    if data is not None and hasattr(data, "get"):
        value = data.get("session_id")
    if not value:
        value = getattr(request, "query_params", request.GET).get("session_id")
    if not value:
        value = request.headers.get("X-Session-Id")
    if not value and hasattr(request, "session"):
        value = request.session.get(SESSION_KEY)
    return value or None


def owner_from_request(request, *, create: bool = False) -> Owner | None:
    """The caller as an owner: the signed-in user, else the anonymous session.

    With ``create`` a caller without a session gets a new one (returned to them as session_id);
    without it, an unknown caller is None (and sees nothing).
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Owner(user=user, address=address_bucket(request))  # per-address caps (URL imports in flight)
    # API callers (a DRF request) are capped in new sessions per address; a page keeps its session in
    # the browser's cookie, and a cookie-less visit to a page must still render (the free allowance is
    # bounded per address either way).
    capped = hasattr(request, "query_params")
    session_id = session_id_from_request(request)
    if session_id:
        if create:
            sid = account_services.parse_session_id(session_id)  # 400 on garbage
            if capped and not AnonymousSession.objects.filter(pk=sid).exists():
                anonymous_session_slot(request)  # an unknown id opens a new session: counted per address
            return Owner(session=account_services.anonymous_session_get_or_create(session_id=sid),
                         address=address_bucket(request))
        account_services.parse_session_id(session_id)  # 400 on garbage
        session = AnonymousSession.objects.filter(pk=session_id).first()
        return Owner(session=session, address=address_bucket(request)) if session else None
    if create:
        if capped:
            anonymous_session_slot(request)  # new anonymous sessions per address and hour (429 beyond)
        session = account_services.anonymous_session_get_or_create()
        if hasattr(request, "session"):
            request.session[SESSION_KEY] = str(session.session_id)
        return Owner(session=session, address=address_bucket(request))
    return None
