"""The central BKD server: FastAPI app, its own tables, blob storage, admin actions.

Run it with `berkas server run --home DIR` (see server.cli); build the app for tests with
`server.app.create_app(ServerSettings.for_home(DIR))`.
"""
