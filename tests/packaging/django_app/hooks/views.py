"""Webhook views of the fresh project: one sync and one async view with the
decorator, and a plain view that the middleware guards (HOOKGUARD_PATHS)."""
import json

from django.http import JsonResponse

from hookguard_client.django import hookguard_webhook


def answer(request):
    event = json.loads(request.body)
    return JsonResponse({"owner": request.hookguard_owner_id, "type": event["message"]["type"]})


@hookguard_webhook
def vapi_sync(request):
    return answer(request)


@hookguard_webhook
async def vapi_async(request):
    return answer(request)


def guarded_by_middleware(request):
    return answer(request)
