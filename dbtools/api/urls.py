"""dbtools API routes; each feature adds its include() line here."""

urlpatterns = []
