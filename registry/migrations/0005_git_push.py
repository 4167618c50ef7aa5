# Commits pushed over git keep their own body; blobs record the git id of their LFS pointer.

from django.db import migrations, models

from registry.git.objects import blob_oid, lfs_pointer


def fill_pointer_oids(apps, schema_editor):
    Blob = apps.get_model("registry", "Blob")
    batch = []
    for blob in Blob.objects.only("id", "sha256", "size").iterator(chunk_size=2000):
        blob.pointer_oid = blob_oid(lfs_pointer(sha256=blob.sha256, size=blob.size))
        batch.append(blob)
        if len(batch) == 2000:
            Blob.objects.bulk_update(batch, ["pointer_oid"])
            batch = []
    if batch:
        Blob.objects.bulk_update(batch, ["pointer_oid"])


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_discussions"),
    ]

    operations = [
        migrations.AddField(
            model_name="gitcommit",
            name="raw",
            field=models.BinaryField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="blob",
            name="pointer_oid",
            field=models.CharField(db_index=True, default="", max_length=40),
            preserve_default=False,
        ),
        migrations.RunPython(fill_pointer_oids, migrations.RunPython.noop),
    ]
