"""Python's json.loads, read as a Django or FastAPI view reads a VAPI event.

Usage: read_python.py BODIES (one base64 body a line); prints one JSON line
a body, as every reader here does: {"reader", "i", "call", "assistant",
"phone", "error"}. The reading rule is the same in every reader:
  event     = root.message when it is an object, else the root (flat shape)
  call      = event.call.id
  assistant = event.call.assistantId; with no call object,
              event.chat.assistantId, else event.session.assistantId
  phone     = event.call.phoneNumberId, or when empty event.phoneNumber.id
An absent or null id reads as "".
"""
import base64
import json
import sys


def text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def member(parent, key) -> dict | None:
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else None


def read(raw: bytes) -> dict:
    root = json.loads(raw)
    if not isinstance(root, dict):
        raise ValueError("root is not an object")
    message = member(root, "message")
    event = root if message is None else message
    call = member(event, "call")
    if call is not None:
        assistant = call.get("assistantId")
    else:
        chat = member(event, "chat")
        source = chat if chat is not None else member(event, "session")
        assistant = (source or {}).get("assistantId")
    phone = (call or {}).get("phoneNumberId") or (member(event, "phoneNumber") or {}).get("id")
    return {"call": text((call or {}).get("id")), "assistant": text(assistant),
            "phone": text(phone)}


def main() -> None:
    with open(sys.argv[1]) as f:
        for i, line in enumerate(f):
            out = {"reader": "python json", "i": i}
            try:
                out.update(read(base64.b64decode(line)))
            except Exception as err:  # noqa: BLE001 - a reader that fails reads nothing
                out["error"] = f"{type(err).__name__}: {err}"
            print(json.dumps(out))


if __name__ == "__main__":
    main()
