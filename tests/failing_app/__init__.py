"""A test-only mirrored app whose one migration fails half-way (tests/settings_failing.py installs it)."""
