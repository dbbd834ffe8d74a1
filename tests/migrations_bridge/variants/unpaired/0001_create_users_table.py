from importlib import import_module

Migration = import_module("blog.migrations.0001_create_users_table").Migration
