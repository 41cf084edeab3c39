"""One set of test factories (factory_boy) for every app's tests; the root conftest exposes them as fixtures.

Rows are built the way the application builds them where a service is the only writer: users through
the sign-up service (so each has its free subscription), subscriptions through ``subscription_start``,
credits through ``accounts.credits`` (so the ledger has its row). Plain records (stored files,
conversions, transactions) are ORM rows with consistent defaults. Models are named lazily
("app.Model") so importing this module never imports an app before Django is set up.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import factory
from django.utils import timezone

PASSWORD = "Secreta123!"


def _plan(plan):
    """A seeded plan from its slug (or the plan itself)."""
    from accounts.models import SubscriptionPlan

    return plan if isinstance(plan, SubscriptionPlan) else SubscriptionPlan.objects.get(slug=plan)


# --- accounts -----------------------------------------------------------------------------------
class UserFactory(factory.django.DjangoModelFactory):
    """A signed-up account (``accounts.services.user_create``: free plan, hashed password), verified
    unless ``unverified=True`` / ``email_verified_at=None``; any other model field is set afterwards.
    ``plan="pro"`` subscribes it to another seeded plan; ``staff=True`` makes it staff;
    ``conversion_credits=n`` grants them through the ledger's writer (a CreditLedgerEntry row)."""

    class Meta:
        model = "accounts.User"
        skip_postgeneration_save = True

    class Params:
        unverified = factory.Trait(email_verified_at=None)
        staff = factory.Trait(is_staff=True)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = PASSWORD
    first_name = ""
    last_name = ""
    language = "es"
    date_joined = factory.LazyFunction(timezone.now)
    # verified when it joined (rewards need a verified address)
    email_verified_at = factory.LazyAttribute(lambda o: o.date_joined)

    @classmethod
    def _create(cls, model_class, *, email, password, first_name="", last_name="", language="es", **fields):
        from accounts import services

        credits = fields.pop("conversion_credits", 0)
        user = services.user_create(email=email, password=password, first_name=first_name,
                                    last_name=last_name, language=language)
        if credits:
            give_credits(user, credits)
        if fields:
            for name, value in fields.items():
                setattr(user, name, value)
            user.save(update_fields=list(fields))
        return user

    @classmethod
    def _build(cls, model_class, *, password, **fields):
        user = model_class(**fields)
        user.set_password(password)
        return user

    @factory.post_generation
    def plan(obj, create, extracted, **kwargs):  # noqa: N805
        if extracted and create:
            from accounts import services

            services.subscription_start(user=obj, plan=_plan(extracted))


class StaffFactory(UserFactory):
    """A staff account (password only: the admin still asks for the second factor)."""

    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    is_staff = True


class VerifiedStaffFactory(StaffFactory):
    """Staff with a confirmed TOTP device (what the second factor needs; log in with ``otp_login``)."""

    @factory.post_generation
    def totp_device(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            from django_otp.plugins.otp_totp.models import TOTPDevice

            TOTPDevice.objects.create(user=obj, name="test", confirmed=True)


class AnonymousSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "accounts.AnonymousSession"


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """The user's active subscription to a seeded plan (``subscription_start`` cancels the previous one)."""

    class Meta:
        model = "accounts.UserSubscription"

    user = factory.SubFactory(UserFactory)
    plan = "pro"

    @classmethod
    def _create(cls, model_class, *, user, plan, now=None, **fields):
        from accounts import services

        subscription = services.subscription_start(user=user, plan=_plan(plan), now=now)
        if fields:
            for name, value in fields.items():
                setattr(subscription, name, value)
            subscription.save(update_fields=list(fields))
        return subscription


class CreditEntryFactory(factory.django.DjangoModelFactory):
    """One credit ledger row written by the only writer (``accounts.credits.credits_change``): the
    balance moves with it. ``delta`` < 0 spends (400 ``insufficient_credits`` when short)."""

    class Meta:
        model = "accounts.CreditLedgerEntry"

    user = factory.SubFactory(UserFactory)
    delta = 1
    reason = "admin_grant"
    idempotency_key = factory.LazyFunction(lambda: uuid.uuid4().hex)

    @classmethod
    def _create(cls, model_class, *, user, delta, reason, idempotency_key, subject=None):
        from accounts.credits import credits_change

        balance = credits_change(user_id=user.pk, delta=delta, reason=reason, idempotency_key=idempotency_key,
                                 subject=subject)
        if balance is not None:
            user.conversion_credits = balance
        return model_class.objects.get(user=user, reason=reason, idempotency_key=idempotency_key)


def give_credits(user, credits: int) -> int:
    """Credits granted by staff, through the one writer (the ledger has the row): the new balance."""
    CreditEntryFactory(user=user, delta=credits)
    return user.conversion_credits


def verified(user):
    """Mark an existing account's e-mail verified (tests that are not about verification)."""
    from accounts.models import User

    User.objects.filter(pk=user.pk).update(email_verified_at=timezone.now())
    user.refresh_from_db(fields=["email_verified_at"])
    return user


# --- storage ------------------------------------------------------------------------------------
def _content_type(fmt: str) -> str:
    from conversions.catalog import CONTENT_TYPES

    return CONTENT_TYPES.get(fmt, "application/octet-stream")


class StoredFileFactory(factory.django.DjangoModelFactory):
    """A stored file row; ``content=b"..."`` also writes those bytes to the storage (size and checksum
    follow). Anonymous: ``user=None, session=AnonymousSessionFactory()``."""

    class Meta:
        model = "storage.StoredFile"
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    session = None
    kind = "original"
    file_format = "png"
    original_filename = factory.LazyAttribute(lambda o: f"archivo.{o.file_format}")
    storage_name = factory.LazyAttribute(lambda o: f"test/{o.kind}/{uuid.uuid4().hex}.{o.file_format}")
    size = 1024
    content_type = factory.LazyAttribute(lambda o: _content_type(o.file_format))
    checksum = "0" * 64
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))

    @factory.post_generation
    def content(obj, create, extracted, **kwargs):  # noqa: N805
        if extracted is None or not create:
            return
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage

        obj.storage_name = default_storage.save(obj.storage_name, ContentFile(extracted))
        obj.size, obj.checksum = len(extracted), hashlib.sha256(extracted).hexdigest()
        obj.save(update_fields=["storage_name", "size", "checksum"])


# --- conversions --------------------------------------------------------------------------------
def _conversion_type(source: str, target: str) -> str:
    from conversions.catalog import conversion_type

    return conversion_type(source, target)


class ConversionFactory(factory.django.DjangoModelFactory):
    """A conversion row (pending by default) with its source file; ``status="completed"`` (or the
    ``completed`` trait) adds the output file, progress 100 and ``finished_at``. No bytes are stored:
    a job the worker must run comes from ``conversion_requested``."""

    class Meta:
        model = "conversions.Conversion"

    class Params:
        size = 1024
        completed = factory.Trait(status="completed")
        is_done = factory.LazyAttribute(lambda o: o.status == "completed")

    user = factory.SubFactory(UserFactory)
    session = None
    batch_id = factory.LazyFunction(uuid.uuid4)
    original_format = "png"
    target_format = "jpg"
    conversion_type = factory.LazyAttribute(lambda o: _conversion_type(o.original_format, o.target_format))
    status = "pending"
    source = factory.SubFactory(StoredFileFactory, user=factory.SelfAttribute("..user"),
                                session=factory.SelfAttribute("..session"), kind="original",
                                file_format=factory.SelfAttribute("..original_format"),
                                size=factory.SelfAttribute("..size"))
    output = factory.Maybe(
        "is_done",
        yes_declaration=factory.SubFactory(StoredFileFactory, user=factory.SelfAttribute("..user"),
                                           session=factory.SelfAttribute("..session"), kind="converted",
                                           file_format=factory.SelfAttribute("..target_format"),
                                           size=factory.SelfAttribute("..size")),
        no_declaration=None,
    )
    progress = factory.LazyAttribute(lambda o: 100 if o.is_done else 0)
    finished_at = factory.Maybe("is_done", yes_declaration=factory.LazyFunction(timezone.now),
                                no_declaration=None)


def conversion_requested(owner, path: Path, target: str, *, name: str | None = None, **options):
    """Jobs asked for through the conversions service (validated, paid for, source stored), as the
    API would: the list of new conversions. Enqueued on commit (use ``no_worker`` to keep them pending)."""
    from conversions import services

    path = Path(path)
    return services.conversion_request(
        owner=owner, target_format=target,
        uploads=[services.Upload(path=path, name=name or path.name, size=path.stat().st_size)], **options)


# --- billing ------------------------------------------------------------------------------------
class TransactionFactory(factory.django.DjangoModelFactory):
    """A payment row (pending by default, offline provider) for one file, with its TransactionItem."""

    class Meta:
        model = "billing.ConversionTransaction"

    class Params:
        source_format = "png"
        target_format = "jpg"
        file_size_mb = Decimal("1.00")
        quality = "standard"

    user = factory.SubFactory(UserFactory)
    session = None
    amount = Decimal("0.50")
    currency = "EUR"
    status = "pending"
    provider = "offline"
    stripe_payment_intent_id = factory.Sequence(lambda n: f"pi_test_factory_{n}")
    conversion_details = factory.LazyAttribute(lambda o: {
        "source_format": o.source_format, "target_format": o.target_format, "file_size_mb": str(o.file_size_mb),
        "quality": o.quality, "file_count": 1, "files": []})
    completed_at = factory.Maybe(factory.LazyAttribute(lambda o: o.status == "completed"),
                                 yes_declaration=factory.LazyFunction(timezone.now), no_declaration=None)
    item = factory.RelatedFactory(
        "factories.TransactionItemFactory", factory_related_name="transaction",
        source_format=factory.SelfAttribute("..source_format"), target_format=factory.SelfAttribute("..target_format"),
        file_size_mb=factory.SelfAttribute("..file_size_mb"), quality=factory.SelfAttribute("..quality"),
        amount=factory.SelfAttribute("..amount"))


class TransactionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "billing.TransactionItem"

    transaction = factory.SubFactory(TransactionFactory, item=None)
    position = factory.LazyAttribute(lambda o: o.transaction.items.count())
    source_format = "png"
    target_format = "jpg"
    quality = "standard"
    file_size_mb = Decimal("1.00")
    size_category = "small"
    amount = Decimal("0.50")


# --- API helpers --------------------------------------------------------------------------------
def upload(client, paths, target, *, names=None, quality=None, **extra):
    """POST /api/conversion/convert with these files (multipart), as a browser or API consumer would."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    names = names or [Path(p).name for p in paths]
    files = [SimpleUploadedFile(name, Path(p).read_bytes()) for p, name in zip(paths, names, strict=True)]
    data = {"file": files, "target_format": target, **extra}
    if quality:
        data["quality"] = quality
    return client.post("/api/conversion/convert", data, format="multipart")
