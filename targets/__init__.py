"""Registered PostgreSQL targets and the one connection seam (targets/seam.py); see docs/targets.md."""
