"""Cursor pagination for every list endpoint: stable under inserts and O(page) on millions of rows.

A bad `page_size` is a 400 `invalid_page_size`. A cursor that was not taken from a response (tampered, made up,
truncated) points at no page: a 404 `invalid_cursor` with a clear message, as for any reference to nothing in the
API — never a 500 from a tampered position. The schema documents both.
"""

import re

from rest_framework.pagination import CursorPagination

from config.api.errors import ApiError

MAX_POSITION = 2**63 - 1


class IdCursorPagination(CursorPagination):
    """Newest first by primary key (`-id`), `?page_size=` 1..max_page_size."""

    ordering = "-id"
    page_size = 50
    max_page_size = 500
    page_size_query_param = "page_size"
    cursor_query_description = "The pagination cursor: copy it from a response's `next` or `previous` link."

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not re.fullmatch(r"[0-9]{1,6}", raw) or not 1 <= int(raw) <= self.max_page_size:
            raise ApiError(400, "invalid_page_size",
                           f"page_size must be a whole number from 1 to {self.max_page_size}.",
                           {"page_size": raw[:50]})
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size,
                                       "default": self.page_size}
        return parameters

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except Exception:  # DRF raises NotFound; any decoding failure is the client's bad cursor
            cursor = False
        if cursor is not False and cursor is not None and cursor.position is not None:
            position = cursor.position
            if not re.fullmatch(r"-?[0-9]{1,19}", position) or abs(int(position)) > MAX_POSITION:
                cursor = False
        if cursor is False:
            raise ApiError(404, "invalid_cursor",
                           "The cursor is not valid; use the `next` or `previous` link of a previous response.")
        return cursor
