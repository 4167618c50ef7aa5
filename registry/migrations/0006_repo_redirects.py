# Former ids of moved repositories, redirected to the current id as on the Hub.

import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0005_git_push"),
    ]

    operations = [
        migrations.CreateModel(
            name="RepoRedirect",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "type",
                    models.CharField(
                        choices=[("model", "Model"), ("dataset", "Dataset"), ("tutorial", "Tutorial")], max_length=10
                    ),
                ),
                ("namespace", models.CharField(max_length=96)),
                ("name", models.CharField(max_length=96)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "repo",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="redirects", to="registry.repo"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        models.F("type"),
                        django.db.models.functions.text.Lower("namespace"),
                        django.db.models.functions.text.Lower("name"),
                        name="repo_redirect_ci_unique",
                    )
                ],
            },
        ),
    ]
