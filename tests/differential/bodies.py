"""Adversarial webhook bodies for the parser-differential test.

Every body names alice's call, assistant or phone number in one place and
bob's in another, in a way some JSON reader may resolve differently from
hookguard: keys that differ only in case (Go's encoding/json matches keys
case-insensitively, the others do not), both payload shapes in one body,
escaped keys, repeated keys (most readers keep the last one), and the two
non-ASCII runes that Go's case folding maps onto ASCII letters: the long s
U+017F folds to "s" (so it reaches "message", "assistantId" and "session")
and the Kelvin sign U+212A folds to "k" (no key hookguard reads has a "k",
so it reaches none and has no case here).

Bodies are raw JSON text, written by hand rather than serialised from dicts,
because duplicate keys and escaped key spellings cannot be expressed as a
dict. `expect` is what hookguard must answer where the rule is exact:
"ALLOW <owner>" for the controls, "MALFORMED_EVENT" for a key that equals a
key hookguard reads in that object ignoring ASCII case but is not it, a
repeated key, and a body with both shapes. Cases without `expect` (non-ASCII
folding, chat and session objects, nesting) are judged by the differential
alone: if hookguard allows them, every reader must read what it read.
"""
from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Tenant:
    call: str
    assistant: str
    phone: str


ALICE = Tenant("call_alice_1", "asst_alice", "phone_alice")
BOB = Tenant("call_bob_1", "asst_bob", "phone_bob")
OWNER_IDS = {"1": "alice", "2": "bob"}  # user ids of tests/fixtures/consistent.sql

MALFORMED = "MALFORMED_EVENT"


@dataclass(frozen=True)
class Case:
    name: str
    body: str  # raw JSON text; sent as its UTF-8 bytes
    expect: str | None = None  # "ALLOW alice", "MALFORMED_EVENT", or None


def s(value: str) -> str:
    return json.dumps(value)


def obj(*fields: tuple[str, str]) -> str:
    """An object from (key as written between the quotes, raw JSON value)."""
    return "{" + ",".join(f'"{key}":{value}' for key, value in fields) + "}"


def call_of(t: Tenant, *, assistant: bool = True, phone: bool = False) -> str:
    fields = [("id", s(t.call))]
    if assistant:
        fields.append(("assistantId", s(t.assistant)))
    if phone:
        fields.append(("phoneNumberId", s(t.phone)))
    return obj(*fields)


# Alice's call as the exact key holds it, and bob's as the other spelling
# holds it. Bob's names every id, so that a reader that merges the two objects
# (Go does, when the variant comes first) shows it.
CALL_A = call_of(ALICE)
CALL_B = call_of(BOB, phone=True)


def message(*fields: tuple[str, str]) -> str:
    return obj(("message", obj(("type", s("status-update")), *fields)))


def ordered(exact: tuple[str, str], variant: tuple[str, str], order: str) -> list:
    """The exact key and its variant; `order` says where the variant goes."""
    return [variant, exact] if order == "before" else [exact, variant]


def variant_cases() -> list[Case]:
    """A spelling of each key hookguard reads, in each object it reads it in,
    next to the exact key (variant before and after it) or alone."""
    cases: list[Case] = []

    def add(name: str, body: str, ascii_variant: bool) -> None:
        cases.append(Case(name, body, MALFORMED if ascii_variant else None))

    # Root: "message". Alone, the variant sits beside a flat call.
    for v in ["Message", "MESSAGE", "mESSAGE", r"\u004dessage", "me\u017f\u017fage",
              r"me\u017f\u017fage"]:
        ascii_v = "\u017f" not in v and "017f" not in v
        exact = ("message", obj(("call", CALL_A)))
        other = (v, obj(("call", CALL_B)))
        for order in ["before", "after"]:
            add(f"root {v} {order} message", obj(*ordered(exact, other, order)), ascii_v)
        add(f"root {v} beside a flat call", obj(other, ("call", CALL_A)), ascii_v)

    # message: "call", "phoneNumber", "type".
    for v in ["Call", "CALL", "cALL", r"\u0043all"]:
        for order in ["before", "after"]:
            add(f"message.{v} {order} call",
                message(*ordered(("call", CALL_A), (v, CALL_B), order)), True)
    for v in ["PhoneNumber", "PHONENUMBER", "phonenumber"]:
        phone_a = ("phoneNumber", obj(("id", s(ALICE.phone))))
        phone_b = (v, obj(("id", s(BOB.phone))))
        for order in ["before", "after"]:
            add(f"message.{v} {order} phoneNumber",
                message(("call", CALL_A), *ordered(phone_a, phone_b, order)), True)
        add(f"message.{v} alone", message(("call", CALL_A), phone_b), True)
    for v in ["Type", "TYPE"]:
        add(f"message.{v} after type",
            obj(("message", obj(("type", s("status-update")), (v, s("assistant-request")),
                                ("call", CALL_A)))), True)

    # The flat shape's root: "call", "phoneNumber", "type".
    for v in ["Call", "CALL"]:
        for order in ["before", "after"]:
            add(f"flat {v} {order} call", obj(*ordered(("call", CALL_A), (v, CALL_B), order)),
                True)
    add("flat PhoneNumber alone", obj(("call", CALL_A), ("PhoneNumber", obj(("id", s(BOB.phone))))),
        True)
    add("flat Type after type", obj(("type", s("status-update")), ("Type", s("end-of-call-report")),
                                    ("call", CALL_A)), True)
    add("root Call beside message.call", obj(("message", obj(("call", CALL_A))), ("Call", CALL_B)),
        True)

    # call: "id", "assistantId", "phoneNumberId", "orgId".
    def call_case(name: str, exact: tuple[str, str] | None, variant: tuple[str, str],
                  order: str, ascii_v: bool) -> None:
        fields = [("id", s(ALICE.call))] if exact is None or exact[0] != "id" else []
        pair = [variant] if exact is None else ordered(exact, variant, order)
        add(name, message(("call", obj(*fields, *pair))), ascii_v)

    for v in ["ID", "Id", "iD", r"\u0049D"]:
        for order in ["before", "after"]:
            call_case(f"call.{v} {order} id", ("id", s(ALICE.call)), (v, s(BOB.call)), order, True)
    add("flat call.ID after id", obj(("call", obj(("id", s(ALICE.call)), ("ID", s(BOB.call))))),
        True)
    for v in ["ASSISTANTID", "AssistantId", "assistantID", r"\u0041ssistantId",
              "a\u017f\u017fistantId", r"a\u017f\u017fistantId"]:
        ascii_v = "\u017f" not in v and "017f" not in v
        for order in ["before", "after"]:
            call_case(f"call.{v} {order} assistantId", ("assistantId", s(ALICE.assistant)),
                      (v, s(BOB.assistant)), order, ascii_v)
        call_case(f"call.{v} alone", None, (v, s(BOB.assistant)), "", ascii_v)
    for v in ["phoneNumberID", "PhoneNumberId", "PHONENUMBERID"]:
        for order in ["before", "after"]:
            call_case(f"call.{v} {order} phoneNumberId", ("phoneNumberId", s(ALICE.phone)),
                      (v, s(BOB.phone)), order, True)
        call_case(f"call.{v} alone", None, (v, s(BOB.phone)), "", True)
    for v in ["OrgId", "ORGID"]:
        for order in ["before", "after"]:
            call_case(f"call.{v} {order} orgId", ("orgId", s("org_alice")), (v, s("org_bob")),
                      order, True)

    # phoneNumber: "id" (read when the call names no phone number).
    for v in ["ID", "Id"]:
        for order in ["before", "after"]:
            add(f"phoneNumber.{v} {order} id",
                message(("call", CALL_A), ("phoneNumber", obj(*ordered(
                    ("id", s(ALICE.phone)), (v, s(BOB.phone)), order)))), True)
        add(f"phoneNumber.{v} alone", message(("call", CALL_A),
                                              ("phoneNumber", obj((v, s(BOB.phone))))), True)
    return cases


def chat_session_cases() -> list[Case]:
    """Events with no call: their chat or session object names the assistant."""
    cases = []
    for kind, variants in [("chat", ["Chat", "CHAT"]), ("session", ["Session", "\u017fession"])]:
        exact = (kind, obj(("assistantId", s(ALICE.assistant))))
        cases.append(Case(f"{kind} event", obj(("message", obj(("type", s(f"{kind}.created")),
                                                               exact)))))
        for v in variants:
            other = (v, obj(("assistantId", s(BOB.assistant))))
            for order in ["before", "after"]:
                cases.append(Case(f"message.{v} {order} {kind}", obj(("message", obj(
                    ("type", s(f"{kind}.created")), *ordered(exact, other, order))))))
        for v in ["AssistantId", "a\u017f\u017fistantId"]:
            cases.append(Case(f"{kind}.{v} after assistantId", obj(("message", obj(
                ("type", s(f"{kind}.created")),
                (kind, obj(("assistantId", s(ALICE.assistant)),
                           (v, s(BOB.assistant)))))))))
    return cases


def structural_cases() -> list[Case]:
    """Repeated keys (exact and escaped), both shapes, nested messages."""
    dup = [
        ("root message twice", obj(("message", obj(("call", CALL_A))),
                                   ("message", obj(("call", CALL_B))))),
        ("message.call twice", message(("call", CALL_A), ("call", CALL_B))),
        ("call.id twice", message(("call", obj(("id", s(ALICE.call)), ("id", s(BOB.call)))))),
        ("call.assistantId twice", message(("call", obj(
            ("id", s(ALICE.call)), ("assistantId", s(ALICE.assistant)),
            ("assistantId", s(BOB.assistant)))))),
        ("message.phoneNumber twice", message(("call", CALL_A),
                                              ("phoneNumber", obj(("id", s(ALICE.phone)))),
                                              ("phoneNumber", obj(("id", s(BOB.phone)))))),
        ("phoneNumber.id twice", message(("call", CALL_A), ("phoneNumber", obj(
            ("id", s(ALICE.phone)), ("id", s(BOB.phone)))))),
        ("flat call twice", obj(("call", CALL_A), ("call", CALL_B))),
        # Escapes that unescape to the exact key: a repeat, too.
        (r"message.c\u0061ll after call", message(("call", CALL_A), (r"c\u0061ll", CALL_B))),
        (r"root \u006dessage after message", obj(("message", obj(("call", CALL_A))),
                                                 (r"\u006dessage", obj(("call", CALL_B))))),
        (r"call.\u0069d after id", message(("call", obj(("id", s(ALICE.call)),
                                                        (r"\u0069d", s(BOB.call)))))),
        (r"call.assistant\u0049d after assistantId", message(("call", obj(
            ("id", s(ALICE.call)), ("assistantId", s(ALICE.assistant)),
            (r"assistant\u0049d", s(BOB.assistant)))))),
    ]
    both = [
        ("both shapes, flat first", obj(("call", CALL_A), ("message", obj(("call", CALL_B))))),
        ("both shapes, message first", obj(("message", obj(("call", CALL_B))), ("call", CALL_A))),
        ("both shapes, same call", obj(("call", CALL_A), ("message", obj(("call", CALL_A))))),
        ("both shapes with types", obj(("type", s("end-of-call-report")), ("call", CALL_A),
                                       ("message", obj(("type", s("status-update")),
                                                       ("call", CALL_B))))),
        # A message that is not an object, beside a flat call: Go's reader
        # takes it for an empty event, others read the flat call.
        ("string message beside flat call", obj(("message", s("x")), ("call", CALL_A))),
        ("array message beside flat call", obj(("message", "[" + obj(("call", CALL_B)) + "]"),
                                              ("call", CALL_A))),
    ]
    cases = [Case(n, b, MALFORMED) for n, b in dup + both]
    # Nesting: only root.message is an event; a message inside it is data.
    cases += [
        Case("message.message beside call", message(("call", CALL_A),
                                                    ("message", obj(("call", CALL_B))))),
        Case("message.Message beside call", message(("call", CALL_A),
                                                    ("Message", obj(("call", CALL_B))))),
        Case("message holding only message.message, flat call beside",
             obj(("message", obj(("message", obj(("call", CALL_B))))), ("call", CALL_A))),
        Case("message null, flat call beside", obj(("message", "null"), ("call", CALL_A))),
    ]
    # Keys no reader folds onto a read key: they must stay harmless data.
    cases += [
        Case("Kelvin sign key beside call", message(("call", CALL_A),
                                                    ("\u212aey", obj(("id", s(BOB.call)))))),
        Case("call.\u0131d (dotless i) after id", message(("call", obj(
            ("id", s(ALICE.call)), ("\u0131d", s(BOB.call)))))),
        Case(r"message.call\u0000 after call", message(("call", CALL_A),
                                                       (r"call\u0000", CALL_B))),
    ]
    # Ids named in two places that a reader might choose between.
    cases += [
        Case("call.phoneNumberId empty beside phoneNumber.id", message(
            ("call", obj(("id", s(ALICE.call)), ("phoneNumberId", s("")))),
            ("phoneNumber", obj(("id", s(ALICE.phone)))))),
        Case("chat and session", obj(("message", obj(
            ("type", s("chat.created")), ("chat", obj(("assistantId", s(ALICE.assistant)))),
            ("session", obj(("assistantId", s(BOB.assistant)))))))),
        Case("call and chat", obj(("message", obj(
            ("type", s("chat.created")), ("call", CALL_A),
            ("chat", obj(("assistantId", s(BOB.assistant)))))))),
    ]
    return cases


def control_cases() -> list[Case]:
    """The body of the issue, then ordinary bodies every reader reads alike:
    they prove the readers and the server work, and that the rule does not
    reject what it must not."""
    return [
        Case("issue 13: message.Call after call",
             '{"message":{"call":{"id":"call_alice_1"},"Call":{"id":"call_bob_1"}}}', MALFORMED),
        Case("control: message shape", message(("call", call_of(ALICE, phone=True))),
             "ALLOW alice"),
        Case("control: flat shape", obj(("type", s("status-update")), ("call", CALL_B)),
             "ALLOW bob"),
        Case("control: phoneNumber object", message(("call", CALL_A),
                                                    ("phoneNumber", obj(("id", s(ALICE.phone))))),
             "ALLOW alice"),
        # A call the app has not stored yet, resolved by its phone number.
        Case("assistant-request for a new call", obj(("message", obj(
            ("type", s("assistant-request")), ("call", obj(("id", s("call_new_1")))),
            ("phoneNumber", obj(("id", s(ALICE.phone)))))))),
        # Keys that only contain a read key, or hold another object's id.
        Case("control: callId and assistant object", message(
            ("call", CALL_A), ("callId", s(BOB.call)),
            ("assistant", obj(("id", s(BOB.assistant)))),
            ("customer", obj(("number", s("+15550100"))))), "ALLOW alice"),
    ]


def cases() -> list[Case]:
    all_cases = control_cases() + variant_cases() + chat_session_cases() + structural_cases()
    names = [c.name for c in all_cases]
    assert len(names) == len(set(names)), "case names must be unique"
    for c in all_cases:
        json.loads(c.body)  # every body is valid JSON (Python keeps the last duplicate)
    return all_cases


if __name__ == "__main__":
    for c in cases():
        print(f"{c.name}\t{c.expect or ''}\t{c.body}")
