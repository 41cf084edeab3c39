"""Print what this host converts: formats, pairs per engine, and the engines that are missing."""

from django.core.management.base import BaseCommand

from conversions.catalog import summary_lines


class Command(BaseCommand):
    help = "What this host converts (formats, pairs per engine) and which engine would add what."

    def handle(self, *args, **options):
        for line in summary_lines():
            self.stdout.write(line)
