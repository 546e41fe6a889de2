"""The screens of the Berkas TUI, one per module, each with its .tcss beside it."""
