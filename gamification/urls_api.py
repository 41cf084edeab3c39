from django.urls import path

from . import api

app_name = "rewards"

urlpatterns = [
    path("profile", api.ProfileApi.as_view(), name="profile"),
    path("leaderboard", api.LeaderboardApi.as_view(), name="leaderboard"),
    path("achievements", api.AchievementsApi.as_view(), name="achievements"),
    path("challenges", api.ChallengesApi.as_view(), name="challenges"),
    path("history", api.HistoryApi.as_view(), name="history"),
    path("redeem-credits", api.RedeemCreditsApi.as_view(), name="redeem-credits"),
    path("feedback", api.FeedbackApi.as_view(), name="feedback"),
    path("share", api.ShareApi.as_view(), name="share"),
]
