"""Berkas as installed: the `berkas` program (berkas.cli) and the demo that wires a
local BKD server to an OPD client (berkas.demo). Nothing else imports this package."""
