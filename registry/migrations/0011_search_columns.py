"""What search and the model tree need at 100,000 repositories, on PostgreSQL only (a no-op on
SQLite, which searches with ``LIKE``):

- ``registry_repo.search_vector``, a stored generated ``tsvector`` of ``search_document``, with a
  GIN index: matching and ranking read it instead of parsing every candidate's document again
  (``registry.selectors.repos._search``). It replaces 0003's expression index, which only served
  the match and left the rank to parse each document.
- trigram indexes (``pg_trgm``) on ``UPPER(name)``, for the name match of a search (``icontains``,
  which Django writes ``UPPER(name::text) LIKE UPPER(…)``), and on ``UPPER(tag)`` of repository
  tags, for the model tree's case-insensitive ``base_model:…`` lookups (``iexact``).

See benchmarks/RESULTS.md, "Listings and search at 100,000 repositories".
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE registry_repo ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple'::regconfig, COALESCE(search_document, ''::text))) STORED",
    "CREATE INDEX IF NOT EXISTS registry_repo_search_vector ON registry_repo USING gin (search_vector)",
    "DROP INDEX IF EXISTS registry_repo_search_gin",
    "CREATE INDEX IF NOT EXISTS registry_repo_name_trgm ON registry_repo USING gin (UPPER(name::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS registry_repotag_tag_upper ON registry_repotag (UPPER(tag::text))",
]
BACKWARD = [
    "DROP INDEX IF EXISTS registry_repotag_tag_upper",
    "DROP INDEX IF EXISTS registry_repo_name_trgm",
    "CREATE INDEX IF NOT EXISTS registry_repo_search_gin ON registry_repo "
    "USING gin (to_tsvector('simple'::regconfig, COALESCE(search_document, ''::text)))",
    "DROP INDEX IF EXISTS registry_repo_search_vector",
    "ALTER TABLE registry_repo DROP COLUMN IF EXISTS search_vector",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("registry", "0010_repo_disabled")]

    operations = [migrations.RunPython(forward, backward)]
