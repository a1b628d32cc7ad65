"""The app's tenants' VAPI resources: hookguard's default ownership queries
read exactly these tables (api_assistant, api_phonenumber, api_interviewcall)."""
from django.conf import settings
from django.db import models


class Assistant(models.Model):
    vapi_assistant_id = models.CharField(max_length=255, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)


class PhoneNumber(models.Model):
    vapi_phone_number_id = models.CharField(max_length=255, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)


class InterviewCall(models.Model):
    vapi_call_id = models.CharField(max_length=255, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    assistant = models.ForeignKey(Assistant, on_delete=models.CASCADE)
    phone_number = models.ForeignKey(PhoneNumber, null=True, on_delete=models.SET_NULL)
    summary = models.TextField(blank=True)
