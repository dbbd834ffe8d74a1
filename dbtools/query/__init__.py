"""The query editor: user SQL on a least-privilege connection, history, saved queries and streamed exports.

See docs/query-editor.md for the design (roles, transaction boundaries, cancel, export).
"""
