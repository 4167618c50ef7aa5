"""A GIN index for full-text search on PostgreSQL (SQLite searches without one)."""

from django.db import migrations

INDEX = "registry_repo_search_gin"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # The expression is the one ``registry.selectors.repos._search`` queries, so it is used.
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON registry_repo "
            "USING gin (to_tsvector('simple'::regconfig, COALESCE(search_document, ''::text)))"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_repotag_order")]

    operations = [migrations.RunPython(create_index, drop_index)]
