"""Otos letters (see the issues for what comes here)."""
