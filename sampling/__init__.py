"""Otos sampling (see the issues for what comes here)."""
