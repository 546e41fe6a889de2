"""Click's and Typer's own words in Bahasa Indonesia ("Usage:", "Options:", "Show this
message and exit.", the error lines), so every word of `berkas --help` reads as the rest.

Click marks these strings for gettext but ships no Indonesian catalogue; its modules bind
`_` and `ngettext` at import, so `install()` points those names at this table. Strings the
table does not know pass through unchanged.

Typer 0.29 carries its own copy of Click (typer._click) that writes most of its words as
plain f-strings, with no gettext to hook. Those are handled where they reach the person,
in as few places as there are: the usage line's pieces ("[OPTIONS]", "COMMAND
[ARGS]...", `{arg}`), the type shown beside a parameter (`<str>`), a command's short
description (wrapped, never cut with "..."), and an error's message, translated by
pattern (`ERRORS`) when it is shown. tests/client/test_cli_bahasa.py walks every
`--help` and the usage errors and fails on English, so a Typer upgrade that moves any of
these shows at once. Metavars are ours: each argument names its own (ID_USULAN).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
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


# The usage line's pieces that Typer writes itself.
_USAGE = {"[OPTIONS]": "[OPSI]", "COMMAND [ARGS]...": "PERINTAH [ARGUMEN]..."}
# The type shown beside a parameter in help, `<str>` and the like.
_TYPES = {
    "str": "teks",
    "int": "bilangan",
    "float": "bilangan",
    "bool": "ya/tidak",
    "path": "jalur",
    "file": "berkas",
    "directory": "folder",
    "date": "tanggal",
    "datetime": "tanggal",
    "UUID": "ID",
}
_VALUE_TYPES = {
    "int": "bilangan bulat",
    "integer": "bilangan bulat",
    "float": "bilangan",
    "bool": "nilai ya/tidak",
    "boolean": "nilai ya/tidak",
    "UUID": "ID",
    "date": "tanggal",
    "datetime": "tanggal",
}
_FILE_KINDS = {"File": "Berkas", "Directory": "Folder", "Path": "Jalur"}
_FILE_PROBLEMS = {
    "does not exist": "tidak ada.",
    "is a file": "adalah berkas, bukan folder.",
    "is a directory": "adalah folder, bukan berkas.",
    "is not readable": "tidak dapat dibaca.",
    "is not writable": "tidak dapat ditulis.",
}
Replacement = str | Callable[[re.Match[str]], str]

# Error messages of Typer's copy of Click (English f-strings), as (pattern, Bahasa);
# applied in order, each to what the one before left, so a message built of parts
# ("Invalid value for X: Value 'y' is not a valid int.") is translated part by part.
ERRORS: tuple[tuple[re.Pattern[str], Replacement], ...] = tuple(
    (re.compile(pattern), bahasa)
    for pattern, bahasa in (
        (r"^Missing argument (.+?)\.", r"Argumen \1 belum diisi."),
        (r"^Missing option (.+?)\.", r"Opsi \1 belum diisi."),
        (r"^Missing parameter(: )?", r"Parameter belum diisi\1"),
        (r"^Invalid value for (.+?): ", r"Nilai tidak sah untuk \1: "),
        (r"^Invalid value: ", "Nilai tidak sah: "),
        (r"^No such option: (\S+)", r"Opsi \1 tidak dikenal."),
        (r"\(Possible options: (.+)\)$", r"(Opsi yang ada: \1)"),
        (r"^Got unexpected extra argument(?:\(s\)|s)? \((.*)\)$", r"Argumen berlebih: \1"),
        (r"Option (\S+) requires an argument\.", r"Opsi \1 memerlukan nilai."),
        (r"Option (\S+) requires (\d+) arguments\.", r"Opsi \1 memerlukan \2 nilai."),
        (r"Option (\S+) does not take a value\.", r"Opsi \1 tidak menerima nilai."),
        (r"Argument (\S+) takes (\d+) values\.", r"Argumen \1 memerlukan \2 nilai."),
        (
            r"Value (.+) is not a valid (\w+)\.",
            lambda m: f"Nilai {m[1]} bukan {_VALUE_TYPES.get(m[2], m[2])} yang sah.",
        ),
        (r"Value must be an iterable\.", "Nilainya harus berupa daftar."),
        (r"Choose from:", "Pilih dari:"),
        (
            r"^(File|Directory|Path) (.+) (" + "|".join(_FILE_PROBLEMS) + r")\.",
            lambda m: f"{_FILE_KINDS[m[1]]} {m[2]} {_FILE_PROBLEMS[m[3]]}",
        ),
        (r"^Could not open file (.+?): ", r"Berkas \1 tidak dapat dibuka: "),
    )
)


def error_message(message: str) -> str:
    """An error message of Typer's copy of Click, in Bahasa (unknown parts unchanged)."""
    for pattern, bahasa in ERRORS:
        message = pattern.sub(bahasa, message)
    return message


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
        message = error_message(self.format_message())
        echo(f"Galat: {message}", file=file or stderr(), color=self.show_color)

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
        echo(f"Galat: {error_message(self.format_message())}", file=file, color=color)

    exceptions.ClickException.show = show_error
    exceptions.UsageError.show = show_usage_error
    _install_typer_usage()


def _install_typer_usage() -> None:
    """The usage line, the parameter types and the command list of Typer's help."""
    core = importlib.import_module("typer.core")
    click_core = importlib.import_module("typer._click.core")
    collect = click_core.Command.collect_usage_pieces

    def usage_pieces(self: Any, ctx: Any) -> list[str]:
        return [_USAGE.get(piece, piece) for piece in collect(self, ctx)]

    click_core.Command.collect_usage_pieces = usage_pieces
    group_collect = core.TyperGroup.collect_usage_pieces

    def group_pieces(self: Any, ctx: Any) -> list[str]:
        return [_USAGE.get(piece, piece) for piece in group_collect(self, ctx)]

    core.TyperGroup.collect_usage_pieces = group_pieces

    def usage_name(self: Any) -> str:
        # Click's own convention (Typer writes a required one as `{name}`): the metavar
        # alone when required, in brackets when not.
        name = str(self.display_name_raw)
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    core.TyperArgument._usage_display_name = usage_name
    display_type = core._TyperParameter.display_type

    def bahasa_type(self: Any, ctx: Any) -> str:
        shown = str(display_type(self, ctx))
        inner = shown[1:-1] if shown.startswith("<") and shown.endswith(">") else ""
        listed = re.fullmatch(r"list\[(\w+)\]", inner)
        if listed:
            return f"<daftar {_TYPES.get(listed[1], listed[1])}>"
        return f"<{_TYPES[inner]}>" if inner in _TYPES else shown

    core._TyperParameter.display_type = bahasa_type
    short_help = click_core.Command.get_short_help_str

    def whole_short_help(self: Any, limit: int = 45) -> str:
        # The command list wraps a long description; Click would cut it with "...".
        return str(short_help(self, limit=1_000))

    click_core.Command.get_short_help_str = whole_short_help
