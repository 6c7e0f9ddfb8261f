"""Helpers for autolearn's own tests (fault injection); never read by a real sweep."""
