"""Idempotent seed: plans and periodic tasks (later capabilities add theirs to SEEDERS)."""

from django.core.management.base import BaseCommand

from anclora.core.seeding import run_seeders


class Command(BaseCommand):
    help = "Create the seeded rows that are missing (plans, periodic tasks, …). Safe to rerun."

    def handle(self, *args, **options):
        for name, result in run_seeders():
            self.stdout.write(f"seed {name}: {result}")
