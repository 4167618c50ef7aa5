"""Counting and listing a base model's children at 100,000 repositories, on PostgreSQL only (a
no-op on SQLite):

- ``registry_repotag_tag_upper`` (0011) becomes ``UPPER(tag)`` with ``repo_id`` and ``tag``
  included, so the model tree's ``base_model:…`` lookup is an index-only scan (an expression index
  alone cannot answer one: the planner wants the column itself);
- ``registry_repo (id) INCLUDE (type, private, namespace_id)``: the visibility test of every child
  read from the index, not from the repositories' wide rows (``repo_children_count``).

See benchmarks/RESULTS.md, "Listings and search at 100,000 repositories".
"""

from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS registry_repotag_tag_upper_repo ON registry_repotag "
    "(UPPER(tag::text)) INCLUDE (repo_id, tag)",
    "DROP INDEX IF EXISTS registry_repotag_tag_upper",
    "CREATE INDEX IF NOT EXISTS registry_repo_id_visibility ON registry_repo (id) INCLUDE (type, private, namespace_id)",
    # Statistics of the new index's expression: without them PostgreSQL guesses how many
    # repositories name a base model, and for one that none name, walks every model by recency.
    "ANALYZE registry_repotag",
]
BACKWARD = [
    "DROP INDEX IF EXISTS registry_repo_id_visibility",
    "CREATE INDEX IF NOT EXISTS registry_repotag_tag_upper ON registry_repotag (UPPER(tag::text))",
    "DROP INDEX IF EXISTS registry_repotag_tag_upper_repo",
]


def _on_postgresql(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("registry", "0012_git_pack_entries")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD))]
