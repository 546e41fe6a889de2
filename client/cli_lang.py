"""Click's and Typer's own words in Bahasa Indonesia ("Usage:", "Options:", "Show this
message and exit.", the error lines), so every word of `berkas --help` reads as the rest.

Click marks these strings for gettext but ships no Indonesian catalogue; its modules bind
`_` and `ngettext` at import, so `install()` points those names at this table. Strings the
table does not know pass through unchanged.
"""

from __future__ import annotations

import importlib
from typing import IO, Any

_WORDS = {
    "Usage:": "Cara pakai:",
    "Options": "Opsi",
    "Commands": "Perintah",
    "Arguments": "Argumen",
    "Positional arguments": "Argumen",
    "Show this message and exit.": "Tampilkan bantuan ini lalu keluar.",
    "Show the version and exit.": "Tampilkan versi lalu keluar.",
    "Aborted!": "Dibatalkan.",
    "required": "wajib",
    "default: {default}": "bawaan: {default}",
    "env var: {var}": "variabel lingkungan: {var}",
    "(dynamic)": "(dinamis)",
    "Missing command.": "Perintah belum disebut.",
    "Error: {message}": "Galat: {message}",
    "Try '{command} {option}' for help.": "Coba '{command} {option}' untuk bantuan.",
    "No such command {name!r}.": "Perintah {name!r} tidak dikenal.",
    "No such option {name!r}.": "Opsi {name!r} tidak dikenal.",
    "Missing argument": "Argumen kurang",
    "Missing option": "Opsi kurang",
    "Missing parameter": "Parameter kurang",
    "Missing parameter: {param_name}": "Parameter kurang: {param_name}",
    "Missing {param_type}": "{param_type} kurang",
    "Invalid value for {param_hint}: {message}": "Nilai tidak sah untuk {param_hint}: {message}",
    "Invalid value: {message}": "Nilai tidak sah: {message}",
    "Option {name!r} does not take a value.": "Opsi {name!r} tidak menerima nilai.",
    "Choose from:\n\t{choices}": "Pilih dari:\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} bukan {number_type} yang sah.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "{value!r} bukan nilai ya/tidak yang sah. Yang dikenal: {states}"
    ),
    "{value} is not in the range {range}.": "{value} di luar rentang {range}.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} tidak ada.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} adalah folder.",
    "{name} {filename!r} is a file.": "{name} {filename!r} adalah berkas, bukan folder.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} tidak dapat dibaca.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} tidak dapat ditulis.",
    "file": "berkas",
    "directory": "folder",
    "path": "jalur",
    "Could not open file {filename!r}: {message}": "Berkas {filename!r} tidak dapat dibuka: "
    "{message}",
    "unknown error": "kesalahan tidak dikenal",
}
_PLURALS = {
    "Got unexpected extra argument ({args})": "Argumen berlebih yang tidak dikenal ({args})",
    "Did you mean {possibility}?": "Maksud Anda {possibility}?",
    "Option {name!r} requires an argument.": "Opsi {name!r} memerlukan nilai.",
    "Argument {name!r} takes {nargs} values.": "Argumen {name!r} memerlukan {nargs} nilai.",
}
_PLURALS_MANY = {
    "Got unexpected extra arguments ({args})": "Argumen berlebih yang tidak dikenal ({args})",
    "(Did you mean one of: {possibilities}?)": "(Maksud Anda salah satu dari: {possibilities}?)",
    "Option {name!r} requires {nargs} arguments.": "Opsi {name!r} memerlukan {nargs} nilai.",
}
# Click itself and the copy of it that Typer carries (typer._click).
_NAMES = ("core", "formatting", "decorators", "exceptions", "parser", "types", "termui")
_MODULES = (
    *(f"{package}.{name}" for package in ("click", "typer._click") for name in _NAMES),
    "typer.core",
)


def gettext(message: str) -> str:
    return _WORDS.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    if n == 1:
        return _PLURALS.get(singular, singular)
    return _PLURALS_MANY.get(plural, plural)


def install() -> None:
    """Point Click's and Typer's gettext names at the table (idempotent); Typer's own
    copy of Click writes some words without gettext: those methods are wrapped."""
    _install_typer_click()
    for name in _MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # a Typer without its own copy of Click
            continue
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]


def _install_typer_click() -> None:
    try:
        decorators = importlib.import_module("typer._click.decorators")
        exceptions = importlib.import_module("typer._click.exceptions")
        formatting = importlib.import_module("typer._click.formatting")
        utils = importlib.import_module("typer._click.utils")
    except ImportError:  # a Typer without its own copy of Click
        return
    if getattr(formatting, "_berkas_bahasa", False):
        return
    setattr(formatting, "_berkas_bahasa", True)  # noqa: B010 - a mark on a module

    write_usage = formatting.HelpFormatter.write_usage

    def usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, "Cara pakai: " if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = usage
    option = getattr(decorators, "option")  # noqa: B009

    def translated_option(*args: Any, **kwargs: Any) -> Any:
        if isinstance(kwargs.get("help"), str):
            kwargs["help"] = gettext(kwargs["help"])
        return option(*args, **kwargs)

    setattr(decorators, "option", translated_option)  # noqa: B010 - Typer's copy of Click
    echo, stderr = utils.echo, exceptions.get_text_stderr

    def show_error(self: Any, file: IO[Any] | None = None) -> None:
        echo(f"Galat: {self.format_message()}", file=file or stderr(), color=self.show_color)

    def show_usage_error(self: Any, file: IO[Any] | None = None) -> None:
        file = file or stderr()
        color = None
        if self.ctx is not None:
            color = self.ctx.color
            hint = ""
            if self.ctx.command.get_help_option(self.ctx) is not None:
                command, option_name = self.ctx.command_path, self.ctx.help_option_names[0]
                hint = f"Coba '{command} {option_name}' untuk bantuan.\n"
            echo(f"{self.ctx.get_usage()}\n{hint}", file=file, color=color)
        echo(f"Galat: {self.format_message()}", file=file, color=color)

    exceptions.ClickException.show = show_error
    exceptions.UsageError.show = show_usage_error
