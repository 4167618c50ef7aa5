# Discussions and pull requests, moved here from the hub app (hub.0003_move_discussions). The
# tables keep their names and rows: this migration only tells Django they now belong here.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("hub", "0003_move_discussions"),
        ("registry", "0008_access_requests"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Discussion",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("num", models.PositiveIntegerField()),
                        ("title", models.CharField(max_length=200)),
                        ("is_pull_request", models.BooleanField(default=False)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("draft", "Draft"),
                                    ("open", "Open"),
                                    ("closed", "Closed"),
                                    ("merged", "Merged"),
                                ],
                                default="open",
                                max_length=8,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("target_ref", models.CharField(blank=True, max_length=255)),
                        ("merge_commit_oid", models.CharField(blank=True, max_length=40)),
                        (
                            "author",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="discussions",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "repo",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="discussions",
                                to="registry.repo",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "hub_discussion",
                    },
                ),
                migrations.CreateModel(
                    name="DiscussionEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "type",
                            models.CharField(
                                choices=[
                                    ("comment", "Comment"),
                                    ("status-change", "Status change"),
                                    ("commit", "Commit"),
                                    ("title-change", "Title change"),
                                ],
                                max_length=16,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("data", models.JSONField(default=dict)),
                        (
                            "author",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "discussion",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="events",
                                to="community.discussion",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "hub_discussionevent",
                        "ordering": ["created_at", "id"],
                    },
                ),
                migrations.AddIndex(
                    model_name="discussion",
                    index=models.Index(fields=["repo", "-num"], name="hub_discuss_repo_id_38cf2a_idx"),
                ),
                migrations.AddConstraint(
                    model_name="discussion",
                    constraint=models.UniqueConstraint(fields=("repo", "num"), name="discussion_num_unique"),
                ),
            ],
            database_operations=[],
        ),
    ]
