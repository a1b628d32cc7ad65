import json

from django.http import JsonResponse

from .models import InterviewCall


def vapi_webhook(request):
    """Runs only for a webhook hookguard let through (HOOKGUARD_PATHS)."""
    verdict = request.hookguard_verdict
    owner_id = request.hookguard_owner_id      # "" in shadow mode or fail-open
    event = json.loads(request.body)["message"]
    if event["type"] == "end-of-call-report" and owner_id:
        # Act for the owner hookguard found, never for an id from the body.
        InterviewCall.objects.filter(vapi_call_id=event["call"]["id"], user_id=owner_id) \
            .update(summary=event.get("summary", ""))
    return JsonResponse({"owner": owner_id, "error": verdict.error,
                         "shadow_deny": verdict.shadow_deny})
