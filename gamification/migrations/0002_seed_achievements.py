from django.db import migrations


def seed(apps, schema_editor):
    from gamification.rules import ACHIEVEMENTS

    Achievement = apps.get_model("gamification", "Achievement")
    for order, a in enumerate(ACHIEVEMENTS):
        Achievement.objects.get_or_create(
            id=a.id,
            defaults={"name": a.name, "description": a.description, "icon": a.icon, "category": a.category,
                      "points_reward": a.points_reward, "rarity": a.rarity, "sort_order": order},
        )


class Migration(migrations.Migration):
    dependencies = [("gamification", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
