from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0009_scans"),
    ]

    operations = [
        migrations.AddField(
            model_name="repo",
            name="disabled_action",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="repo",
            name="disabled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="repo",
            name="disabled_reason",
            field=models.CharField(blank=True, max_length=32),
        ),
    ]
