#!/usr/bin/env python3
"""TEMPORARY FALLBACK for `hookguard send` (issue 22's server half): remove
once that subcommand is merged. Signs BODY as the "vapi" preset does (hex
HMAC-SHA256 of the body in x-vapi-signature, keyed with the profile's first
secret, read from the environment variable the config names) and POSTs it to
URL; prints "HTTP <status>" and the app's body.

    send_fallback.py --config=FILE --profile=P --body=FILE --url=URL
"""
import argparse
import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    ap = argparse.ArgumentParser()
    for flag in ("--config", "--profile", "--body", "--url"):
        ap.add_argument(flag, required=True)
    args = ap.parse_args()
    config = json.load(open(args.config))
    profile = next(p for p in config["profiles"] if p["name"] == args.profile)
    if profile.get("preset", "vapi") != "vapi" or profile.get("kind", "hmac") != "hmac":
        sys.exit("send_fallback.py signs only the vapi preset")
    secret = os.environ[profile["secrets"][0]["env"]].encode()
    body = open(args.body, "rb").read()
    req = urllib.request.Request(args.url, data=body, method="POST", headers={
        "content-type": "application/json",
        "x-vapi-signature": hmac.new(secret, body, hashlib.sha256).hexdigest()})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, text = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read()
    print(f"HTTP {status}")
    print(text.decode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
