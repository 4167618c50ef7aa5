"""``python manage.py staging_cleanup [--max-age-seconds N]`` removes what abandoned uploads left in
staging, as beat's hourly janitor does (``registry.services.staging``), and prints what it removed."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from registry.services.staging import upload_staging_cleanup

# Younger entries may belong to uploads still under way (the setting has the same floor).
MIN_AGE_SECONDS = 60


class Command(BaseCommand):
    help = "Remove staging files, bucket staging objects and incomplete multipart uploads of abandoned uploads."

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-age-seconds",
            type=int,
            default=None,
            help="remove entries unchanged for this long (default: HUB_STAGING_MAX_AGE_SECONDS)",
        )

    def handle(self, *args, max_age_seconds: int | None, **options):
        age = settings.HUB_STAGING_MAX_AGE_SECONDS if max_age_seconds is None else max_age_seconds
        if age < MIN_AGE_SECONDS:
            raise CommandError(
                f"--max-age-seconds must be at least {MIN_AGE_SECONDS}: younger entries may belong to uploads "
                "still under way."
            )
        removed = upload_staging_cleanup(older_than_seconds=age)
        self.stdout.write(
            f"removed {removed.files} staging files or folders, {removed.objects} staging objects, "
            f"aborted {removed.multipart_uploads} multipart uploads (older than {age} s)"
        )
