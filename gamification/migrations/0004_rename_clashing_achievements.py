"""Achievement names that repeated a level title are renamed (issue 14): the rows the seed
migration stored get the names of gamification/rules.py."""

from django.db import migrations

RENAMED = {
    "conversion_expert": ("Experto en Conversión", "Medio Centenar"),
    "level_5": ("Maestro de Formatos", "Mitad del Camino"),
    "level_10": ("Emperador de Conversiones", "En la Cima"),
}


def forwards(apps, schema_editor):
    Achievement = apps.get_model("gamification", "Achievement")
    for achievement_id, (old, new) in RENAMED.items():
        Achievement.objects.filter(id=achievement_id, name=old).update(name=new)


def backwards(apps, schema_editor):
    Achievement = apps.get_model("gamification", "Achievement")
    for achievement_id, (old, new) in RENAMED.items():
        Achievement.objects.filter(id=achievement_id, name=new).update(name=old)


class Migration(migrations.Migration):
    dependencies = [("gamification", "0003_held_rewards")]

    operations = [migrations.RunPython(forwards, backwards)]
