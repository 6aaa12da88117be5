"""The faces of Otos: the Textual app (``tui.app``) and the command line (``tui.cli``)."""
