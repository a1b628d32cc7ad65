"""The Python peer of the load benchmark: what a web tier would run instead
of hookguard, in Python, for the benchmark's request.

  .venv/bin/python tests/load/python_peer.py --listen 127.0.0.1:PORT \
      --db "host=127.0.0.1 port=5432 dbname=app user=postgres" [--pool 8]

A gRPC server (grpcio's asyncio server) with the same AuthorizeWebhook
method, doing the same checks for a VAPI event: the hex HMAC-SHA256 of the
body against x-vapi-signature (constant-time compare), json.loads of the
body, the call's row from PostgreSQL with hookguard's default query
(psycopg 3, asynchronous, prepared statements, a pool of connections), and
the ownership rules 3 to 7 of docs/explanation/ownership.md. Written to be fast in
Python (one event loop, no thread hops), not to be complete: no other
events, no resolution chain, no audit log, no metrics. The secret comes
from VAPI_WEBHOOK_SECRET. Never part of the product.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os

import grpc
import psycopg

import loadlib

# hookguard's default call query (server/ownership/soci_ownership_store.cc).
CALL_QUERY = (
    "SELECT CAST(c.user_id AS TEXT), a.vapi_assistant_id, CAST(a.user_id AS TEXT),"
    " CASE WHEN c.phone_number_id IS NULL THEN NULL"
    " ELSE COALESCE(p.vapi_phone_number_id, '') END, CAST(p.user_id AS TEXT)"
    " FROM api_interviewcall c"
    " LEFT JOIN api_assistant a ON a.id = c.assistant_id"
    " LEFT JOIN api_phonenumber p ON p.id = c.phone_number_id"
    " WHERE c.vapi_call_id = %s")


class Peer:
    def __init__(self, pb, secret: bytes, connections: asyncio.Queue):
        self.pb = pb
        self.secret = secret
        self.connections = connections

    def deny(self, reason: int, status: int):
        return self.pb.AuthorizeWebhookResponse(decision=self.pb.DECISION_DENY, reason=reason,
                                                http_status=status)

    async def lookup(self, call_id: str):
        conn = await self.connections.get()
        try:
            cur = await conn.execute(CALL_QUERY, (call_id,), prepare=True)
            rows = await cur.fetchall()
        finally:
            self.connections.put_nowait(conn)
        if len(rows) > 1:
            raise RuntimeError("more than one row for one call id")
        return rows[0] if rows else None

    async def AuthorizeWebhook(self, request, context):
        pb = self.pb
        http = request.request
        mac = hmac.new(self.secret, http.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, http.headers.get("x-vapi-signature", "")):
            return self.deny(pb.DENY_REASON_SIGNATURE_INVALID, 401)
        try:
            message = json.loads(http.body)["message"]
            call = message["call"]
            call_id = call["id"]
        except (ValueError, KeyError, TypeError):
            return self.deny(pb.DENY_REASON_MALFORMED_EVENT, 400)
        assistant = call.get("assistantId") or ""
        phone = call.get("phoneNumberId") or ""
        try:
            row = await self.lookup(call_id)
        except Exception as error:  # fail closed
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(error))
        if row is None:
            return self.deny(pb.DENY_REASON_CALL_NOT_FOUND, 404)
        owner, call_assistant, assistant_owner, call_phone, phone_owner = row
        if not owner:
            return self.deny(pb.DENY_REASON_OWNER_MISMATCH, 403)
        if assistant and assistant != call_assistant:
            return self.deny(pb.DENY_REASON_ASSISTANT_MISMATCH, 403)
        if assistant_owner != owner:
            return self.deny(pb.DENY_REASON_ASSISTANT_OWNER_MISMATCH, 403)
        if phone and phone != call_phone:
            return self.deny(pb.DENY_REASON_PHONE_NUMBER_MISMATCH, 403)
        if call_phone is not None and phone_owner != owner:
            return self.deny(pb.DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH, 403)
        if request.expected_owner_id and request.expected_owner_id != owner:
            return self.deny(pb.DENY_REASON_OWNER_MISMATCH, 403)
        return pb.AuthorizeWebhookResponse(decision=pb.DECISION_ALLOW, http_status=200,
                                           owner_id=owner, resolved_by=pb.OWNER_SOURCE_CALL)


async def serve(args) -> None:
    pb, pb_grpc = loadlib.proto_modules()
    connections: asyncio.Queue = asyncio.Queue()
    for _ in range(args.pool):
        connections.put_nowait(await psycopg.AsyncConnection.connect(args.db, autocommit=True))
    peer = Peer(pb, os.environ["VAPI_WEBHOOK_SECRET"].encode(), connections)
    handler = grpc.method_handlers_generic_handler(loadlib.SERVICE, {
        "AuthorizeWebhook": grpc.unary_unary_rpc_method_handler(
            peer.AuthorizeWebhook,
            request_deserializer=pb.AuthorizeWebhookRequest.FromString,
            response_serializer=pb.AuthorizeWebhookResponse.SerializeToString)})
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", 8 << 20)])
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(args.listen)
    await server.start()
    await server.wait_for_termination()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--listen", required=True)
    ap.add_argument("--db", required=True, help="libpq connection string")
    ap.add_argument("--pool", type=int, default=8)
    asyncio.run(serve(ap.parse_args()))


if __name__ == "__main__":
    main()
