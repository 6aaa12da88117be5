"""Otos core: the register (DVV extracts), the opt-in resident pool, audit, database.

Never imports textual: the TUI and CLI are thin faces over these functions.
"""
