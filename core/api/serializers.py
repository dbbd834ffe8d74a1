"""Serializer helpers shared by every API app: one strictness rule for every request body and query string."""

from collections.abc import Mapping

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.fields import empty

from config.api.errors import ApiError

# Validation codes that are not bad input but a clash with stored data: a taken unique value is a conflict (409),
# a reference to a row that does not exist a 404 (the referenced object is not found, as JSON:API does).
CONFLICT_CODES = {"unique"}
MISSING_CODES = {"does_not_exist"}


# A JSON body's values must have the JSON type the schema gives: DRF alone would take "1"/0 for a boolean, "5"
# for an integer and 123 for a string, which the schema (and so any client generated from it) says is wrong.
JSON_TYPES = (
    (serializers.BooleanField, (bool,), "a JSON boolean (true or false)"),
    (serializers.IntegerField, (int,), "a JSON integer"),
    (serializers.PrimaryKeyRelatedField, (int,), "a JSON integer (an id)"),
    (serializers.ChoiceField, (str,), "a JSON string"),
    (serializers.CharField, (str,), "a JSON string"),
    (serializers.ListField, (list,), "a JSON array"),
    (serializers.DictField, (dict,), "a JSON object"),
)


def json_type_error(field, value):
    """The message for a value of the wrong JSON type for `field` (children of lists and maps too), or None."""
    if value is None:
        return None  # allow_null decides
    for field_class, types, noun in JSON_TYPES:
        if isinstance(field, field_class):
            if not isinstance(value, types) or (types == (int,) and isinstance(value, bool)):
                return f"Must be {noun}."
            break
    child = getattr(field, "child", None)
    if isinstance(field, serializers.ListField) and child is not None:
        return next((f"Item {i}: {error}" for i, item in enumerate(value) if (error := json_type_error(child, item))),
                    None)
    if isinstance(field, serializers.DictField) and child is not None:
        return next((f"Key {key[:50]}: {error}" for key, item in value.items()
                     if (error := json_type_error(child, item))), None)
    return None


def _leaf_codes(codes):
    if isinstance(codes, Mapping):
        return {code for value in codes.values() for code in _leaf_codes(value)}
    if isinstance(codes, (list, tuple)):
        return {code for value in codes for code in _leaf_codes(value)}
    return {codes}


class StrictSerializerMixin:
    """Refuse fields the serializer does not accept (a typo must not be silently ignored).

    Raises ApiError (400, code `unknown_field`) with every offending name, read-only ones flagged separately.
    The OpenAPI schema says the same (`additionalProperties: false`, accounts/api/schema.py). A body whose only
    errors are taken unique values is a 409 `conflict`; one naming rows that do not exist a 404 `not_found`.
    """

    unknown_code = "unknown_field"
    unknown_noun = "field"

    def get_fields(self):
        # Text is taken as sent: no trimming, so the length and blank rules are the schema's (maxLength counts
        # what the client sent; " " is not blank). DRF would strip first and check the stripped text.
        fields = super().get_fields()
        for field in fields.values():
            for text_field in (field, getattr(field, "child", None)):
                if isinstance(text_field, serializers.CharField):
                    text_field.trim_whitespace = False
        return fields

    @staticmethod
    def form_keys(data):
        # The browsable API's HTML forms carry Django's CSRF token along with the fields.
        return ("csrfmiddlewaretoken",) if isinstance(data, QueryDict) else ()

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            read_only = {name for name, field in self.fields.items() if field.read_only}
            extra = [name for name in data if name not in writable and name not in self.form_keys(data)]
            if extra:
                noun = self.unknown_noun
                details = {name: f"This {noun} is read-only." if name in read_only else f"Unknown {noun}."
                           for name in extra[:20]}
                raise ApiError(400, self.unknown_code,
                               f"Unknown or read-only {noun}(s): {', '.join(str(n)[:50] for n in extra[:20])}; "
                               f"accepted: {', '.join(sorted(writable)) or 'none'}.", details)
            if self.unknown_code == "unknown_field" and not isinstance(data, QueryDict):
                wrong = {name: [error] for name, value in data.items()
                         if (error := json_type_error(self.fields[name], value))}
                if wrong:
                    raise serializers.ValidationError(wrong, code="invalid")
        return super().to_internal_value(data)

    def run_validation(self, data=empty):
        try:
            return super().run_validation(data)
        except serializers.ValidationError as exc:
            if self.parent is not None:
                raise
            codes = _leaf_codes(exc.get_codes())
            if codes and codes <= CONFLICT_CODES:
                raise ApiError(409, "conflict", "The change conflicts with existing data (a unique value is taken).",
                               exc.detail) from exc
            if codes and codes <= CONFLICT_CODES | MISSING_CODES:
                raise ApiError(404, "not_found", "The request names an object that does not exist.",
                               exc.detail) from exc
            raise


class EmptyBodySerializer(StrictSerializerMixin, serializers.Serializer):
    """The body of a write endpoint that takes none: absent or `{}`; any field sent is an `unknown_field`."""


def validated_body(serializer_class, request, **kwargs):
    """The validated body of a write request (400 on unknown fields or bad values, by the rule above)."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class StrictQuerySerializer(StrictSerializerMixin, serializers.Serializer):
    """Validates query parameters: unknown ones are refused like unknown body fields."""

    IGNORED = ("cursor", "page_size", "format")
    unknown_code = "unknown_parameter"
    unknown_noun = "query parameter"

    def __init__(self, *args, query_params=None, **kwargs):
        if query_params is not None:
            # An empty known parameter (`?is_published=`) means "no filter", as an HTML form would send it.
            kwargs["data"] = {key: query_params.get(key) for key in query_params if key not in self.IGNORED
                              and not (query_params.get(key) == "" and key in self._declared_fields)}
        super().__init__(*args, **kwargs)

    def validated_or_raise(self):
        self.is_valid(raise_exception=True)
        return {key: value for key, value in self.validated_data.items() if value not in (None, "")}
