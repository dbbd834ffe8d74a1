from django.urls import path

from dbtools.query import api_drafts, api_saved, api_views

urlpatterns = [
    path("query", api_views.QueryView.as_view(), name="api-query"),
    path("query/explain", api_views.ExplainView.as_view(), name="api-query-explain"),
    path("query/export", api_views.ExportView.as_view(), name="api-query-export"),
    path("query/format", api_views.FormatView.as_view(), name="api-query-format"),
    path("query/<int:query_id>/cancel", api_views.CancelView.as_view(), name="api-query-cancel"),
    path("query/drafts", api_drafts.DraftListView.as_view(), name="api-query-drafts"),
    path("query/drafts/<int:pk>", api_drafts.DraftDetailView.as_view(), name="api-query-draft"),
    path("query-history", api_views.QueryHistoryView.as_view(), name="api-query-history"),
    path("saved-queries", api_saved.SavedQueryListView.as_view(), name="api-saved-queries"),
    path("saved-queries/<int:pk>", api_saved.SavedQueryDetailView.as_view(), name="api-saved-query"),
    path("saved-queries/<int:pk>/run", api_saved.SavedQueryRunView.as_view(), name="api-saved-query-run"),
]
