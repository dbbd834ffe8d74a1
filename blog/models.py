"""The seed's demo tables. Their DDL comes from blog/seed_schema.py; these models describe it to Django."""

from django.db import models
from django.utils import timezone

from blog.fields import CurrentTimestamp, UTCTimestampField


class TouchOnSave(models.Model):
    """`updated_at` follows every save made through Django (the seed has no trigger for it)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            self.updated_at = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)


class BlogUser(TouchOnSave):
    id = models.AutoField(primary_key=True)
    username = models.CharField(max_length=50)
    email = models.EmailField(max_length=100)
    is_active = models.BooleanField(db_default=True, default=True, null=True)
    created_at = UTCTimestampField(db_default=CurrentTimestamp(), null=True, editable=False)
    updated_at = UTCTimestampField(db_default=CurrentTimestamp(), null=True, editable=False)

    class Meta:
        db_table = "users"
        verbose_name = "user"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["username"], name="users_username_key"),
            models.UniqueConstraint(fields=["email"], name="users_email_key"),
        ]
        indexes = [
            models.Index(fields=["username"], name="idx_users_username"),
            models.Index(fields=["email"], name="idx_users_email"),
        ]

    def __str__(self):
        return self.username


class Post(TouchOnSave):
    id = models.AutoField(primary_key=True)
    title = models.CharField(max_length=200)
    content = models.TextField()
    # PostgreSQL cascades (ON DELETE CASCADE in the seed's DDL), so Django must not fetch and delete a user's
    # posts one by one first: with millions of posts that would be slow and racy.
    user = models.ForeignKey(BlogUser, on_delete=models.DO_NOTHING, db_index=False, related_name="posts")
    is_published = models.BooleanField(db_default=False, default=False, null=True)
    created_at = UTCTimestampField(db_default=CurrentTimestamp(), null=True, editable=False)
    updated_at = UTCTimestampField(db_default=CurrentTimestamp(), null=True, editable=False)

    class Meta:
        db_table = "posts"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["user"], name="idx_posts_user_id"),
            models.Index(fields=["is_published"], name="idx_posts_is_published"),
        ]

    def __str__(self):
        return self.title
