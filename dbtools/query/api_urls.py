from django.urls import path

from dbtools.query import api, api_drafts

urlpatterns = [
    path("query", api.QueryView.as_view(), name="api-query"),
    path("query/explain", api.ExplainView.as_view(), name="api-query-explain"),
    path("query/export", api.ExportView.as_view(), name="api-query-export"),
    path("query/format", api.FormatView.as_view(), name="api-query-format"),
    path("query/<int:query_id>/cancel", api.CancelView.as_view(), name="api-query-cancel"),
    path("query/drafts", api_drafts.DraftListView.as_view(), name="api-query-drafts"),
    path("query/drafts/<int:pk>", api_drafts.DraftDetailView.as_view(), name="api-query-draft"),
    path("query-history", api.QueryHistoryView.as_view(), name="api-query-history"),
    path("saved-queries", api.SavedQueryListView.as_view(), name="api-saved-queries"),
    path("saved-queries/<int:pk>", api.SavedQueryDetailView.as_view(), name="api-saved-query"),
    path("saved-queries/<int:pk>/run", api.SavedQueryRunView.as_view(), name="api-saved-query-run"),
]
