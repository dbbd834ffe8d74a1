import factory
from factory.django import DjangoModelFactory

from accounts.models import User
from blog.models import BlogUser, Post


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    role = "viewer"
    is_staff = True
    password = factory.django.Password("pw-for-tests-1")


class BlogUserFactory(DjangoModelFactory):
    class Meta:
        model = BlogUser

    username = factory.Sequence(lambda n: f"author{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")


class PostFactory(DjangoModelFactory):
    class Meta:
        model = Post

    title = factory.Sequence(lambda n: f"Post number {n}")
    content = factory.Faker("paragraph")
    user = factory.SubFactory(BlogUserFactory)
