from django.contrib import admin
from django.urls import path

from hooks import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("hooks/sync", views.vapi_sync),
    path("hooks/async", views.vapi_async),
    path("mw/vapi", views.guarded_by_middleware),
]
