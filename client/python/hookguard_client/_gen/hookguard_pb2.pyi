from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SignatureResult(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNATURE_RESULT_UNSPECIFIED: _ClassVar[SignatureResult]
    SIGNATURE_RESULT_VALID: _ClassVar[SignatureResult]
    SIGNATURE_RESULT_MISSING: _ClassVar[SignatureResult]
    SIGNATURE_RESULT_MALFORMED: _ClassVar[SignatureResult]
    SIGNATURE_RESULT_MISMATCH: _ClassVar[SignatureResult]
    SIGNATURE_RESULT_STALE: _ClassVar[SignatureResult]

class OwnerSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OWNER_SOURCE_UNSPECIFIED: _ClassVar[OwnerSource]
    OWNER_SOURCE_CALL: _ClassVar[OwnerSource]
    OWNER_SOURCE_PHONE_NUMBER: _ClassVar[OwnerSource]
    OWNER_SOURCE_ASSISTANT: _ClassVar[OwnerSource]
    OWNER_SOURCE_SUBJECT: _ClassVar[OwnerSource]

class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_UNSPECIFIED: _ClassVar[Decision]
    DECISION_ALLOW: _ClassVar[Decision]
    DECISION_DENY: _ClassVar[Decision]

class DenyReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DENY_REASON_UNSPECIFIED: _ClassVar[DenyReason]
    DENY_REASON_MALFORMED_EVENT: _ClassVar[DenyReason]
    DENY_REASON_SIGNATURE_INVALID: _ClassVar[DenyReason]
    DENY_REASON_CALL_NOT_FOUND: _ClassVar[DenyReason]
    DENY_REASON_ASSISTANT_MISMATCH: _ClassVar[DenyReason]
    DENY_REASON_ASSISTANT_OWNER_MISMATCH: _ClassVar[DenyReason]
    DENY_REASON_PHONE_NUMBER_MISMATCH: _ClassVar[DenyReason]
    DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH: _ClassVar[DenyReason]
    DENY_REASON_OWNER_MISMATCH: _ClassVar[DenyReason]
    DENY_REASON_OWNER_CONFLICT: _ClassVar[DenyReason]
    DENY_REASON_SUBJECT_NOT_FOUND: _ClassVar[DenyReason]
SIGNATURE_RESULT_UNSPECIFIED: SignatureResult
SIGNATURE_RESULT_VALID: SignatureResult
SIGNATURE_RESULT_MISSING: SignatureResult
SIGNATURE_RESULT_MALFORMED: SignatureResult
SIGNATURE_RESULT_MISMATCH: SignatureResult
SIGNATURE_RESULT_STALE: SignatureResult
OWNER_SOURCE_UNSPECIFIED: OwnerSource
OWNER_SOURCE_CALL: OwnerSource
OWNER_SOURCE_PHONE_NUMBER: OwnerSource
OWNER_SOURCE_ASSISTANT: OwnerSource
OWNER_SOURCE_SUBJECT: OwnerSource
DECISION_UNSPECIFIED: Decision
DECISION_ALLOW: Decision
DECISION_DENY: Decision
DENY_REASON_UNSPECIFIED: DenyReason
DENY_REASON_MALFORMED_EVENT: DenyReason
DENY_REASON_SIGNATURE_INVALID: DenyReason
DENY_REASON_CALL_NOT_FOUND: DenyReason
DENY_REASON_ASSISTANT_MISMATCH: DenyReason
DENY_REASON_ASSISTANT_OWNER_MISMATCH: DenyReason
DENY_REASON_PHONE_NUMBER_MISMATCH: DenyReason
DENY_REASON_PHONE_NUMBER_OWNER_MISMATCH: DenyReason
DENY_REASON_OWNER_MISMATCH: DenyReason
DENY_REASON_OWNER_CONFLICT: DenyReason
DENY_REASON_SUBJECT_NOT_FOUND: DenyReason

class HttpRequest(_message.Message):
    __slots__ = ("body", "headers", "method", "url")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BODY_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    body: bytes
    headers: _containers.ScalarMap[str, str]
    method: str
    url: str
    def __init__(self, body: _Optional[bytes] = ..., headers: _Optional[_Mapping[str, str]] = ..., method: _Optional[str] = ..., url: _Optional[str] = ...) -> None: ...

class VerifySignatureRequest(_message.Message):
    __slots__ = ("profile", "request")
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    profile: str
    request: HttpRequest
    def __init__(self, profile: _Optional[str] = ..., request: _Optional[_Union[HttpRequest, _Mapping]] = ...) -> None: ...

class VerifySignatureResponse(_message.Message):
    __slots__ = ("result", "key_id", "message_id", "timestamp_unix", "http_status", "detail", "delivery_key")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_UNIX_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_KEY_FIELD_NUMBER: _ClassVar[int]
    result: SignatureResult
    key_id: str
    message_id: str
    timestamp_unix: int
    http_status: int
    detail: str
    delivery_key: str
    def __init__(self, result: _Optional[_Union[SignatureResult, str]] = ..., key_id: _Optional[str] = ..., message_id: _Optional[str] = ..., timestamp_unix: _Optional[int] = ..., http_status: _Optional[int] = ..., detail: _Optional[str] = ..., delivery_key: _Optional[str] = ...) -> None: ...

class CallEvent(_message.Message):
    __slots__ = ("type", "call_id", "assistant_id", "phone_number_id", "org_id")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    ASSISTANT_ID_FIELD_NUMBER: _ClassVar[int]
    PHONE_NUMBER_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    type: str
    call_id: str
    assistant_id: str
    phone_number_id: str
    org_id: str
    def __init__(self, type: _Optional[str] = ..., call_id: _Optional[str] = ..., assistant_id: _Optional[str] = ..., phone_number_id: _Optional[str] = ..., org_id: _Optional[str] = ...) -> None: ...

class AuthorizeCallEventRequest(_message.Message):
    __slots__ = ("event", "expected_owner_id")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    event: CallEvent
    expected_owner_id: str
    def __init__(self, event: _Optional[_Union[CallEvent, _Mapping]] = ..., expected_owner_id: _Optional[str] = ...) -> None: ...

class AuthorizeCallEventResponse(_message.Message):
    __slots__ = ("decision", "reason", "owner_id", "http_status", "decision_id", "detail", "resolved_by", "shadow_decision", "shadow_reason", "resolved_subject")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_BY_FIELD_NUMBER: _ClassVar[int]
    SHADOW_DECISION_FIELD_NUMBER: _ClassVar[int]
    SHADOW_REASON_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    decision: Decision
    reason: DenyReason
    owner_id: str
    http_status: int
    decision_id: str
    detail: str
    resolved_by: OwnerSource
    shadow_decision: Decision
    shadow_reason: DenyReason
    resolved_subject: str
    def __init__(self, decision: _Optional[_Union[Decision, str]] = ..., reason: _Optional[_Union[DenyReason, str]] = ..., owner_id: _Optional[str] = ..., http_status: _Optional[int] = ..., decision_id: _Optional[str] = ..., detail: _Optional[str] = ..., resolved_by: _Optional[_Union[OwnerSource, str]] = ..., shadow_decision: _Optional[_Union[Decision, str]] = ..., shadow_reason: _Optional[_Union[DenyReason, str]] = ..., resolved_subject: _Optional[str] = ...) -> None: ...

class AuthorizeWebhookRequest(_message.Message):
    __slots__ = ("profile", "request", "expected_owner_id")
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    profile: str
    request: HttpRequest
    expected_owner_id: str
    def __init__(self, profile: _Optional[str] = ..., request: _Optional[_Union[HttpRequest, _Mapping]] = ..., expected_owner_id: _Optional[str] = ...) -> None: ...

class AuthorizeWebhookResponse(_message.Message):
    __slots__ = ("decision", "reason", "signature", "event", "owner_id", "http_status", "decision_id", "key_id", "message_id", "detail", "resolved_by", "shadow_decision", "shadow_reason", "delivery_key", "resolved_subject")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_BY_FIELD_NUMBER: _ClassVar[int]
    SHADOW_DECISION_FIELD_NUMBER: _ClassVar[int]
    SHADOW_REASON_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_KEY_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    decision: Decision
    reason: DenyReason
    signature: SignatureResult
    event: CallEvent
    owner_id: str
    http_status: int
    decision_id: str
    key_id: str
    message_id: str
    detail: str
    resolved_by: OwnerSource
    shadow_decision: Decision
    shadow_reason: DenyReason
    delivery_key: str
    resolved_subject: str
    def __init__(self, decision: _Optional[_Union[Decision, str]] = ..., reason: _Optional[_Union[DenyReason, str]] = ..., signature: _Optional[_Union[SignatureResult, str]] = ..., event: _Optional[_Union[CallEvent, _Mapping]] = ..., owner_id: _Optional[str] = ..., http_status: _Optional[int] = ..., decision_id: _Optional[str] = ..., key_id: _Optional[str] = ..., message_id: _Optional[str] = ..., detail: _Optional[str] = ..., resolved_by: _Optional[_Union[OwnerSource, str]] = ..., shadow_decision: _Optional[_Union[Decision, str]] = ..., shadow_reason: _Optional[_Union[DenyReason, str]] = ..., delivery_key: _Optional[str] = ..., resolved_subject: _Optional[str] = ...) -> None: ...
