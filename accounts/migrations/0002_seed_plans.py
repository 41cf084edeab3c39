from django.db import migrations

from accounts.plans import PLAN_DEFINITIONS


def seed_plans(apps, schema_editor):
    Plan = apps.get_model("accounts", "SubscriptionPlan")
    for definition in PLAN_DEFINITIONS:
        values = dict(definition)
        slug = values.pop("slug")
        Plan.objects.get_or_create(slug=slug, defaults=values)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed_plans, migrations.RunPython.noop)]
