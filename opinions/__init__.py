"""Otos opinions (see the issues for what comes here)."""
