"""The data room: SQLModel tables, domain rules, the local database and blob store.

`store` imports no other package of ours, so the client, the server and the TUI
can all lean on it.
"""
