"""``python manage.py hub_token create USERNAME --role write [--name NAME]`` prints a new API token."""

from django.core.management.base import BaseCommand, CommandError

from common.errors import HubError
from hub.choices import TokenRole
from hub.selectors import token_list, user_get_by_name
from hub.services.tokens import token_create, token_revoke


class Command(BaseCommand):
    help = "Create, list or revoke API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print its secret")
        create.add_argument("username")
        create.add_argument("--role", choices=TokenRole.values, default=TokenRole.READ)
        create.add_argument("--name", default="cli")
        listing = sub.add_parser("list", help="list a user's active tokens")
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="revoke a token by id")
        revoke.add_argument("username")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args, action: str, username: str, **options):
        try:
            user = user_get_by_name(name=username)
            if action == "create":
                _token, secret = token_create(user=user, name=options["name"], role=options["role"])
                self.stdout.write(secret)
            elif action == "list":
                for token in token_list(user=user):
                    used = token.last_used_at.isoformat() if token.last_used_at else "never"
                    self.stdout.write(f"{token.pk}\t{token.name}\t{token.role}\t{token.prefix}…\tlast used {used}")
            else:
                token_revoke(user=user, token_id=options["token_id"])
                self.stdout.write(f"revoked token {options['token_id']}")
        except HubError as error:
            raise CommandError(error.message) from None
