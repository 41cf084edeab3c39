from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup_view, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("account/", views.account_view, name="account"),
    path("language/", views.set_language_view, name="set_language"),
    path("account/verify/resend/", views.verify_email_resend_view, name="verify_email_resend"),
    path("account/verify/<str:token>/", views.verify_email_view, name="verify_email"),
    path("password-reset/", views.password_reset_request_view, name="password_reset"),
    path("password-reset/sent/", views.password_reset_done_view, name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", views.password_reset_confirm_view, name="password_reset_confirm"),
]
