from rest_framework.routers import SimpleRouter

from blog.api.views import BlogUserViewSet, PostViewSet

router = SimpleRouter()
router.register("users", BlogUserViewSet, basename="api-blog-user")
router.register("posts", PostViewSet, basename="api-blog-post")

urlpatterns = router.urls
