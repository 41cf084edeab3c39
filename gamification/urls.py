from django.urls import path

from . import views

app_name = "gamification"

urlpatterns = [
    path("rewards/", views.rewards_page, name="rewards"),
]
