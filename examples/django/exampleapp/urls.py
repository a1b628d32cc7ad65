from django.urls import path

from api import views

urlpatterns = [path("webhooks/vapi/", views.vapi_webhook)]
