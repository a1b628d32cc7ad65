"""Platform signatures the tests compute themselves, by each platform's
published rule (the schemes whose input is more than the body)."""
from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl


def twilio_signature(token: str, url: str, body: bytes) -> str:
    """Twilio's rule, as its request validators apply it: the URL, then each
    form parameter's name and value, sorted by name then value, identical
    pairs once; HMAC-SHA1 keyed with the auth token, base64."""
    params = sorted(set(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True)))
    data = url + "".join(k + v for k, v in params)
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()
