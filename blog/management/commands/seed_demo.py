from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from blog.models import BlogUser
from blog.services import blog_reset, blog_seed
from config.commands import CommandMixin


class Command(CommandMixin, BaseCommand):
    help = "Load demo users and posts into the seed's tables through COPY (1M posts load in seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=100, help="users to add (default 100)")
        parser.add_argument("--posts", type=int, default=1000, help="posts to add (default 1000)")
        parser.add_argument("--reset", action="store_true", help="empty users and posts first")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when users already has rows")
        parser.add_argument("--seed", type=int, default=None, help="random seed for repeatable data")

    def handle(self, *args, users, posts, reset, if_empty, seed, **options):
        if users < 0 or posts < 0:
            raise CommandError("--users and --posts must be zero or more")
        if if_empty and not reset and BlogUser.objects.exists():
            self.stdout.write("Demo data already present; nothing loaded.")
            return
        if reset:
            blog_reset()
        show = options["verbosity"] > 0
        with tqdm(total=users + posts, unit="rows", disable=not show, file=self.stderr._out) as bar:

            def stage(message):
                # The bar reaches 100% when the last row is sent; the server's work after that is named.
                bar.close()
                if show:
                    self.stderr.write(message)

            try:
                added = blog_seed(users=users, posts=posts, progress=bar.update, seed=seed, stage=stage)
            except ValueError as exc:
                raise CommandError(str(exc))
        self.stdout.write(self.style.SUCCESS(f"Loaded {added[0]} users and {added[1]} posts."))
