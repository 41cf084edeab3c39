from django.urls import path

from . import api

auth_urlpatterns = [
    path("register", api.RegisterApi.as_view(), name="register"),
    path("login", api.LoginApi.as_view(), name="login"),
    path("me", api.MeApi.as_view(), name="me"),
    path("refresh", api.RefreshApi.as_view(), name="refresh"),
    path("logout", api.LogoutApi.as_view(), name="logout"),
    path("verify-email", api.VerifyEmailApi.as_view(), name="verify-email"),
    path("verify-email/resend", api.VerifyEmailResendApi.as_view(), name="verify-email-resend"),
    path("password-reset", api.PasswordResetApi.as_view(), name="password-reset"),
    path("password-reset/confirm", api.PasswordResetConfirmApi.as_view(), name="password-reset-confirm"),
]

users_urlpatterns = [
    path("me", api.UserMeApi.as_view(), name="user-me"),
]
