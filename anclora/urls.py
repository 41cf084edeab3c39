from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.urls_api import auth_urlpatterns, users_urlpatterns
from anclora.core import views as core_views
from anclora.core.metrics import metrics_view
from backoffice import dashboard
from conversions import views as conversion_views

api_urlpatterns = [
    path("health", core_views.HealthApi.as_view(), name="health"),
    path("auth/", include((auth_urlpatterns, "auth"))),
    path("users/", include((users_urlpatterns, "users"))),
    path("conversion/", include("conversions.urls_api")),
    path("webhooks/", include("webhooks.urls_api")),
    path("files/", include("storage.urls_api")),
    path("uploads/", include("uploads.urls_api")),
    path("payments/", include("billing.urls_api")),
    path("rewards/", include("gamification.urls_api")),
    path("", include("apikeys.urls_api")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("admin/stats", dashboard.AdminStatsApi.as_view(), name="admin-stats"),
]

urlpatterns = [
    path("api/", include((api_urlpatterns, "api"))),  # first: the API is the hot path
    path("", conversion_views.convert_page, name="home"),
    path("", include("accounts.urls")),
    path("", include("conversions.urls")),
    path("", include("webhooks.urls")),
    path("", include("billing.urls")),
    path("", include("gamification.urls")),
    path("", include("storage.urls")),
    path("", include("apikeys.urls")),
    # Through the admin site's own check: staff with the second factor only.
    path("admin/dashboard/", admin.site.admin_view(dashboard.dashboard_view), name="dashboard"),
    path("admin/", admin.site.urls),
    path("metrics", metrics_view, name="metrics"),
]

handler400 = "anclora.core.views.bad_request"
handler403 = "anclora.core.views.permission_denied"
handler404 = "anclora.core.views.page_not_found"
handler500 = "anclora.core.views.server_error"
