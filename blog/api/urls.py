from rest_framework.routers import SimpleRouter

from blog.api.views import BlogUserViewSet, PostViewSet

router = SimpleRouter(trailing_slash=False)  # the API's one rule: no trailing slash (config/api/errors.py)
router.register("users", BlogUserViewSet, basename="api-blog-user")
router.register("posts", PostViewSet, basename="api-blog-post")

urlpatterns = router.urls
