"""Named errors, one tree. Each carries a one-line ``reason`` fit for a FAILED state.

    IntakeError
    ├── ConfigError
    ├── ReadError                 a document could not be read
    │   ├── UnsupportedContentType   no reader knows these bytes
    │   ├── EmptyDocument
    │   ├── EncryptedDocument
    │   ├── CorruptDocument          truncated, malformed, not what it claims
    │   └── LimitExceeded            too many pages / bytes / a zip bomb
    ├── EdiError                  malformed EDI (bad envelope, segment, element)
    │   └── NotAnOrder               a valid interchange that holds no order (810, 856…)
    ├── ExtractionError           the model could not produce an order
    ├── RequiredFieldsMissing(fields)
    ├── InvalidTransition(from_, to)
    ├── NotFound
    ├── ApprovalBlocked           problems that block approval remain (override needed)
    └── DeliveryError             webhook delivery failed
"""

from __future__ import annotations

__all__ = [
    "IntakeError", "ConfigError", "ReadError", "UnsupportedContentType", "EmptyDocument",
    "EncryptedDocument", "CorruptDocument", "LimitExceeded", "EdiError", "NotAnOrder",
    "ExtractionError", "RequiredFieldsMissing", "InvalidTransition", "NotFound", "ApprovalBlocked", "DeliveryError",
]


class IntakeError(Exception):
    """Base of every expected failure. ``str(err)`` is a one-line reason."""

    code = "intake_error"

    def __init__(self, reason: str) -> None:
        reason = " ".join(str(reason).split())  # always one line
        super().__init__(reason)
        self.reason = reason


class ConfigError(IntakeError):
    code = "config_error"


class ReadError(IntakeError):
    code = "read_error"


class UnsupportedContentType(ReadError):
    code = "unsupported_content_type"


class EmptyDocument(ReadError):
    code = "empty_document"


class EncryptedDocument(ReadError):
    code = "encrypted_document"


class CorruptDocument(ReadError):
    code = "corrupt_document"


class LimitExceeded(ReadError):
    code = "limit_exceeded"


class EdiError(IntakeError):
    code = "edi_error"


class NotAnOrder(EdiError):
    code = "not_an_order"


class ExtractionError(IntakeError):
    code = "extraction_error"


class RequiredFieldsMissing(IntakeError):
    code = "required_fields_missing"

    def __init__(self, fields: list[str]) -> None:
        self.fields = list(fields)
        super().__init__("required fields missing: " + ", ".join(self.fields))


class InvalidTransition(IntakeError):
    code = "invalid_transition"

    def __init__(self, from_: str, to: str) -> None:
        self.from_, self.to = from_, to
        super().__init__(f"an order in {from_} cannot move to {to}")


class NotFound(IntakeError):
    code = "not_found"


class ApprovalBlocked(IntakeError):
    code = "approval_blocked"


class DeliveryError(IntakeError):
    code = "delivery_error"
