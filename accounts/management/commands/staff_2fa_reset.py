"""Reset a staff member's second factor (lost phone and recovery codes): the next login enrols again."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.staff_otp import staff_second_factor_reset


class Command(BaseCommand):
    help = "Delete every second-factor device (authenticator app, recovery codes) of the given staff e-mail(s)."

    def add_arguments(self, parser):
        parser.add_argument("emails", nargs="+", help="the staff member's e-mail")

    def handle(self, *args, emails, **options):
        for email in emails:
            user = User.objects.filter(email__iexact=email.strip()).first()
            if user is None:
                raise CommandError(f"no account with e-mail {email}")
            removed = staff_second_factor_reset(user=user)
            self.stdout.write(f"{user.email}: {removed} device(s) removed; the next admin login enrols again")
