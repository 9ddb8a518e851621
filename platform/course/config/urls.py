from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True})


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "<!doctype html><title>coursegrade</title><h1>coursegrade</h1>"
        '<ul><li><a href="/api/docs/">API documentation</a></li>'
        '<li><a href="/api/schema/">OpenAPI schema</a></li>'
        '<li><a href="/admin/">Administration</a></li></ul>'
    )


urlpatterns = [
    path("", index, name="index"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("course.config.api_urls")),
]
