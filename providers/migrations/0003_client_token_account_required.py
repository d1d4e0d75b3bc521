# The column is filled by 0002; made required in its own transaction (PostgreSQL refuses to alter a
# table with the pending foreign-key checks of rows updated in the same transaction).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('providers', '0002_client_token_account_options'),
    ]

    operations = [
        migrations.AlterField(
            model_name='clienttoken',
            name='account',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account'),
        ),
    ]
