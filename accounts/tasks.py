"""Celery entry points of accounts: take plain values, call a service."""

from celery import shared_task

from .password_reset import password_reset_email_send


@shared_task(name="accounts.tasks.password_reset_email_task")
def password_reset_email_task(*, email: str, base_url: str) -> int:
    """E-mail a password-reset link if ``email`` belongs to an active account (accounts/password_reset.py)."""
    return password_reset_email_send(email=email, base_url=base_url)
