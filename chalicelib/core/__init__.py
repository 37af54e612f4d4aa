"""Stdlib-only building blocks shared by every capability: points, clock, ids, errors."""
