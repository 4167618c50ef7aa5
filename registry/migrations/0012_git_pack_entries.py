"""Trees and commits keep their pack form (``pack_entry``) and commits what they add to their
parents (``new_objects``). Existing rows get ``pack_entry`` here; ``new_objects`` needs tree walks,
so a fetch computes it the first time it sends an older commit, and stores it."""

from django.db import migrations, models

from registry.git.packs import COMMIT, pack_entry
from registry.selectors.packs import commit_raw, tree_pack_entry

BATCH = 500


def _fill(model, body, fields: list[str]) -> None:
    """``pack_entry`` of every row without one, ``BATCH`` rows a round in primary key order."""
    last = 0
    while True:
        rows = list(
            model.objects.filter(pk__gt=last, pack_entry__isnull=True).order_by("pk").only("pk", *fields)[:BATCH]
        )
        if not rows:
            return
        for row in rows:
            row.pack_entry = body(row)
        model.objects.bulk_update(rows, ["pack_entry"])
        last = rows[-1].pk


def pack_entries_fill(apps, schema_editor) -> None:
    _fill(apps.get_model("registry", "GitTree"), lambda row: tree_pack_entry(row.entries), ["entries"])
    commit_fields = ["raw", "tree_oid", "parents", "message", "author_name", "author_email", "authored_at"]
    _fill(apps.get_model("registry", "GitCommit"), lambda row: pack_entry(COMMIT, commit_raw(row)), commit_fields)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0011_search_columns"),
    ]

    operations = [
        migrations.AddField(
            model_name="gitcommit",
            name="new_objects",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="gitcommit",
            name="pack_entry",
            field=models.BinaryField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="gittree",
            name="pack_entry",
            field=models.BinaryField(blank=True, null=True),
        ),
        migrations.RunPython(pack_entries_fill, migrations.RunPython.noop),
    ]
