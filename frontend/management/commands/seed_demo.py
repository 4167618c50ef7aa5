"""``python manage.py seed_demo``: the demo content ``make run`` shows."""

from django.core.management.base import BaseCommand

from frontend.demo import DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Create the demo users, organizations and content (idempotent)."

    def handle(self, *args, **options):
        demo_seed(log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"Demo ready. Log in as alice / {DEMO_PASSWORD}"))
