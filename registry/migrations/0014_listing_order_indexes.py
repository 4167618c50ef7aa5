"""One index per listing order, with every key of the order (``id`` last) and the columns
visibility reads included (``private``, ``namespace_id``; PostgreSQL only, SQLite ignores
``INCLUDE``): a page far down a listing finds its rows' ids by an index-only scan instead of
reading every skipped row (``registry.selectors.repos.RepoListing``). They replace the indexes of
the orders' first keys alone.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("hub", "0005_user_suspension"),
        ("registry", "0013_children_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="repo",
            name="registry_re_type_29b83c_idx",
        ),
        migrations.RemoveIndex(
            model_name="repo",
            name="registry_re_type_3fcd6f_idx",
        ),
        migrations.RemoveIndex(
            model_name="repo",
            name="registry_re_type_923182_idx",
        ),
        migrations.RemoveIndex(
            model_name="repo",
            name="registry_re_type_db18c9_idx",
        ),
        migrations.AddIndex(
            model_name="repo",
            index=models.Index(
                fields=["type", "-trending_score", "-last_modified", "-id"],
                include=("private", "namespace"),
                name="repo_order_trending",
            ),
        ),
        migrations.AddIndex(
            model_name="repo",
            index=models.Index(
                fields=["type", "-downloads", "-id"], include=("private", "namespace"), name="repo_order_downloads"
            ),
        ),
        migrations.AddIndex(
            model_name="repo",
            index=models.Index(
                fields=["type", "-likes", "-id"], include=("private", "namespace"), name="repo_order_likes"
            ),
        ),
        migrations.AddIndex(
            model_name="repo",
            index=models.Index(
                fields=["type", "-last_modified", "-id"], include=("private", "namespace"), name="repo_order_modified"
            ),
        ),
        migrations.AddIndex(
            model_name="repo",
            index=models.Index(
                fields=["type", "-created_at", "-id"], include=("private", "namespace"), name="repo_order_created"
            ),
        ),
    ]
