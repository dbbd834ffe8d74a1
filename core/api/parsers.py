"""Request body parsers: the API takes JSON; an empty form body (what an HTML form or a test client sends for a
POST without fields) is taken as "no body", any form field is a 415 (form encodings lose JSON's types).

Only JSONParser is documented in the OpenAPI schema (SPECTACULAR_SETTINGS["PARSER_WHITELIST"]).
"""

from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.parsers import FormParser, MultiPartParser


class EmptyFormParser(MultiPartParser):
    media_type = "multipart/form-data"

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        if parsed.data or parsed.files:
            raise UnsupportedMediaType(media_type, detail=f'Unsupported media type "{media_type}": send '
                                                          "application/json.")
        return parsed


class EmptyUrlencodedParser(FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        if parsed:
            raise UnsupportedMediaType(media_type, detail=f'Unsupported media type "{media_type}": send '
                                                          "application/json.")
        return parsed
