# Collections, their items and upvotes. (Numbered 0007: another branch adds 0006; re-chain at merge.)

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import registry.models_collections


class Migration(migrations.Migration):
    dependencies = [
        ("hub", "0002_discussions"),
        ("registry", "0006_repo_redirects"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Collection",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "key",
                    models.CharField(default=registry.models_collections.new_object_key, max_length=24, unique=True),
                ),
                ("title", models.CharField(max_length=60)),
                ("description", models.CharField(blank=True, max_length=150)),
                ("private", models.BooleanField(default=False)),
                (
                    "theme",
                    models.CharField(
                        choices=[
                            ("orange", "Orange"),
                            ("blue", "Blue"),
                            ("green", "Green"),
                            ("purple", "Purple"),
                            ("pink", "Pink"),
                            ("indigo", "Indigo"),
                        ],
                        default="orange",
                        max_length=8,
                    ),
                ),
                ("position", models.PositiveIntegerField(default=0)),
                ("upvotes", models.PositiveIntegerField(default=0)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("last_updated", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "namespace",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="collections", to="hub.namespace"
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="CollectionItem",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "key",
                    models.CharField(default=registry.models_collections.new_object_key, max_length=24, unique=True),
                ),
                ("kind", models.CharField(max_length=32)),
                ("object_pk", models.PositiveBigIntegerField()),
                ("position", models.PositiveIntegerField()),
                ("note", models.TextField(blank=True)),
                ("added_at", models.DateTimeField(auto_now_add=True)),
                (
                    "collection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="items", to="registry.collection"
                    ),
                ),
                (
                    "repo",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="collection_items",
                        to="registry.repo",
                    ),
                ),
            ],
            options={
                "ordering": ["position", "id"],
            },
        ),
        migrations.CreateModel(
            name="CollectionUpvote",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "collection",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="upvote_rows",
                        to="registry.collection",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="collection_upvotes",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="collection",
            index=models.Index(fields=["namespace", "position"], name="registry_co_namespa_8f27c8_idx"),
        ),
        migrations.AddIndex(
            model_name="collection",
            index=models.Index(fields=["-upvotes"], name="registry_co_upvotes_6b1061_idx"),
        ),
        migrations.AddIndex(
            model_name="collectionitem",
            index=models.Index(fields=["kind", "object_pk"], name="registry_co_kind_265ad6_idx"),
        ),
        migrations.AddConstraint(
            model_name="collectionitem",
            constraint=models.UniqueConstraint(
                fields=("collection", "kind", "object_pk"), name="collection_item_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="collectionupvote",
            constraint=models.UniqueConstraint(fields=("user", "collection"), name="collection_upvote_unique"),
        ),
    ]
