"""What a target's host may be: libpq hands a host name to getaddrinfo through Python's IDNA codec, which raises
UnicodeError (not a connection error) for an empty or over-long label or a control character. So a name that
could never resolve is refused when the target is saved, with a message, instead of failing every page later."""

import ipaddress
import re

from django.core.exceptions import ValidationError

LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")  # RFC 1123, plus _ (container names)
MESSAGE = "a host name (letters, digits, - and _, dot-separated labels of 1–63), an IP address or a socket directory"


def validate_host(value):
    if value.startswith("/"):  # a Unix-socket directory
        if "\x00" in value:
            raise ValidationError(MESSAGE, code="invalid_host")
        return
    try:
        ipaddress.ip_address(value)
        return
    except ValueError:
        pass
    try:
        ascii_name = value.encode("idna").decode("ascii")  # what getaddrinfo will be given
    except UnicodeError:
        raise ValidationError(MESSAGE, code="invalid_host") from None
    labels = ascii_name[:-1].split(".") if ascii_name.endswith(".") else ascii_name.split(".")
    if len(ascii_name) > 253 or not all(LABEL.match(label) for label in labels):
        raise ValidationError(MESSAGE, code="invalid_host")
