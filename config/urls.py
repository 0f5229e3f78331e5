from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config import views as config_views

admin.site.site_header = "mlsprep administration"

urlpatterns = [
    path("healthz", config_views.healthz, name="healthz"),
    path("favicon.ico", config_views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("instructor/", include("exams.instructor_urls")),
    path("", include("exams.urls")),
]

if settings.BENCHMARK_FLOOR:
    # scripts/benchmark.py's floor: never routed unless BENCHMARK_FLOOR=true.
    urlpatterns.insert(0, path("benchmark/floor/", config_views.benchmark_floor, name="floor"))
