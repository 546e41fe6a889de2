"""The Berkas terminal UI (Textual): screens, widgets and styles; no business rules.

Every screen talks to the client through `client.port.ClientPort` (and, for sync,
to the small port in `tui.sync_port`); nothing here touches SQL, HTTP or files.
"""
