"""The app's own tests: no hookguard server, the test double instead."""
from django.test import Client, TestCase, override_settings

from hookguard_client.testing import FakeHookguardClient, allow, deny, unavailable

ROUTES = ["/hooks/sync", "/hooks/async", "/mw/vapi"]
EVENT = b'{"message": {"type": "status-update", "call": {"id": "call_1"}}}'


class WebhookTests(TestCase):
    # --- docs/guides/django.md: test double ---
    def post(self, route, verdict):
        fake = FakeHookguardClient(verdict)  # allow("42"), deny(reason), unavailable()
        with override_settings(HOOKGUARD_CLIENT=fake):
            # As the platform posts: no CSRF token.
            resp = Client(enforce_csrf_checks=True).post(route, EVENT,
                                                         content_type="application/json")
        self.assertEqual([c.body for c in fake.calls], [EVENT])
        return resp
    # --- end

    def test_allowed_event_is_handled_for_its_owner(self):
        for route in ROUTES:
            with self.subTest(route=route):
                resp = self.post(route, allow("42"))
                self.assertEqual(resp.status_code, 200)
                self.assertEqual(resp.json(), {"owner": "42", "type": "status-update"})

    def test_denied_event_is_refused_with_its_decision_id(self):
        for route in ROUTES:
            with self.subTest(route=route):
                resp = self.post(route, deny("DENY_REASON_OWNER_MISMATCH", decision_id="d-1"))
                self.assertEqual(resp.status_code, 403)
                self.assertEqual(resp["Hookguard-Decision-Id"], "d-1")

    def test_outage_is_503(self):
        for route in ROUTES:
            with self.subTest(route=route):
                self.assertEqual(self.post(route, unavailable()).status_code, 503)
