# Discussions and pull requests moved to the community app. Only Django's idea of the models
# moves: the tables hub_discussion and hub_discussionevent stay, with their rows, and
# community.0001_initial takes them over under the same names.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("hub", "0002_discussions"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="DiscussionEvent"),
                migrations.DeleteModel(name="Discussion"),
            ],
            database_operations=[],
        ),
    ]
