"""What an uploaded PDF may hold: parsing it, finding active content, writing a clean copy.

A PDF is parsed with qpdf (through pikepdf), so names are compared decoded
(``/J#61vaScript`` is ``/JavaScript``) and objects inside compressed object streams
are seen like any other. A PDF carrying active content is refused, never quietly
stripped: taking parts out of a document can change what it says (a form without its
fields, a letter without its links) and the member of staff would not know. The
refusal names what was found, so they can print the document to a fresh PDF instead.

Active content is anything that runs, reaches out or carries other files: JavaScript
(``/JS``, the ``/JavaScript`` name tree), additional actions (``/AA``), any action other
than ``/GoTo`` inside the document (``/OpenAction``, link and form-field actions:
``/URI``, ``/Launch``, ``/GoToR``, ``/GoToE``, ``/SubmitForm``, ``/ImportData``,
``/ResetForm``, ``/Rendition``, ``/RichMediaExecute``, ``/Named``…), attachments
(``/EmbeddedFiles``, ``/EF``, ``/EmbeddedFile`` streams, file-attachment annotations),
embedded media (rich media, screen, movie, sound and 3D annotations) and XFA forms.
An ``/OpenAction`` that is a plain destination (open at page 1) is not an action.

One exception, so that newsletters and letters exported from a word processor still
upload: a link annotation (``/Subtype /Link``) whose action opens an ``http``, ``https``
or ``mailto`` address when the reader taps it. It runs nothing and fetches nothing on
its own, like a link in a message; the same ``/URI`` anywhere else (an ``/OpenAction``,
``/AA``, a form field) is refused.

The copy kept is the one qpdf writes from the parsed document, not the uploaded bytes:
it holds only objects reachable from the trailer, which are exactly the objects checked
here, so nothing a lenient viewer might recover from unreferenced objects, earlier
revisions or bytes after ``%%EOF`` is ever served. Encryption is removed on the way.

Everything here is blocking; callers run it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, BinaryIO, cast

import pikepdf

# Reaching more objects than this is refused rather than walked (a 10 MiB file of tiny
# objects stays well below it; a crafted one is not worth the CPU).
MAX_OBJECTS = 1_000_000

# Keys that are active content wherever they appear, with what to call them.
_ACTIVE_KEYS = {
    "/JS": "JavaScript",
    "/JavaScript": "JavaScript",
    "/AA": "automatic actions (/AA)",
    "/EmbeddedFiles": "attached files",
    "/EF": "attached files",
    "/XFA": "an XFA form",
    "/RichMediaContent": "embedded media",
    "/RichMediaSettings": "embedded media",
}
# Keys whose value is an action (a dictionary) or a list of actions.
_ACTION_KEYS = frozenset({"/A", "/OpenAction", "/Next", "/PA"})
# The one kind of action allowed: moving to a place in the same document.
_SAFE_ACTIONS = frozenset({"/GoTo"})
# What a tapped link may open: web pages and email addresses, nothing local or scripted.
_LINK_SCHEMES = ("http://", "https://", "mailto:")
# Action types refused wherever an ``/S`` names them, even outside an action context.
_ACTION_NAMES = {
    "/JavaScript": "JavaScript",
    "/Launch": "an action that starts a program or opens a file (/Launch)",
    "/URI": "a link to a website (/URI)",
    "/GoToR": "a link to another file (/GoToR)",
    "/GoToE": "a link to an embedded file (/GoToE)",
    "/SubmitForm": "a form that sends data (/SubmitForm)",
    "/ImportData": "a form that imports data (/ImportData)",
    "/RichMediaExecute": "embedded media (/RichMediaExecute)",
    "/Rendition": "embedded media (/Rendition)",
    "/Movie": "embedded media (/Movie)",
    "/Sound": "embedded media (/Sound)",
    "/GoTo3DView": "embedded 3D content",
}
# ``/Type`` and ``/Subtype`` values that carry files or media.
_ACTIVE_TYPES = {
    "/EmbeddedFile": "attached files",
    "/FileAttachment": "attached files",
    "/RichMedia": "embedded media",
    "/Screen": "embedded media",
    "/Movie": "embedded media",
    "/Sound": "embedded media",
    "/3D": "embedded 3D content",
}


class RefusedPdf(Exception):
    """Why an uploaded PDF is not accepted: ``reason`` for programs, ``found`` in words."""

    def __init__(self, reason: str, found: str = "") -> None:
        super().__init__(reason)
        self.reason = reason  # damaged_pdf | encrypted_pdf | pdf_too_complex | pdf_active
        self.found = found


@contextmanager
def checked(source: IO[bytes]) -> Iterator[pikepdf.Pdf]:
    """The PDF in ``source``, parsed strictly and found free of active content, else ``RefusedPdf``.

    Parsing is strict (a broken cross-reference table is not repaired), and qpdf reads
    objects lazily, so a parse error inside the block (while saving, say) is a damaged PDF too.
    """
    source.seek(0)
    try:
        # pikepdf types its streams as BinaryIO; any binary file object (IO[bytes]) serves.
        pdf = pikepdf.open(cast(BinaryIO, source), attempt_recovery=False)
    except pikepdf.PasswordError:
        raise RefusedPdf("encrypted_pdf") from None
    except (pikepdf.PdfError, ValueError):
        raise RefusedPdf("damaged_pdf") from None
    with pdf:
        try:
            found = active_content(pdf)
            if found:
                raise RefusedPdf("pdf_active", found)
            yield pdf
        except pikepdf.PdfError:
            raise RefusedPdf("damaged_pdf") from None


# How an object was reached: as plain data, as an action, or as the action of a link annotation.
_DATA, _ACTION, _LINK = 0, 1, 2


def _is_web_link(action: pikepdf.Object) -> bool:
    """A ``/URI`` action opening a web page or an email address."""
    uri = action.get("/URI")
    if action.get("/S") != pikepdf.Name.URI or not isinstance(uri, pikepdf.String):
        return False
    return bytes(uri).strip().lower().startswith(tuple(s.encode() for s in _LINK_SCHEMES))


def _action_problem(action: pikepdf.Object, reached_as: int = _ACTION) -> str | None:
    kind = action.get("/S")
    if not isinstance(kind, pikepdf.Name) or str(kind) in _SAFE_ACTIONS:
        return None
    if reached_as == _LINK and _is_web_link(action):
        return None
    return _ACTION_NAMES.get(str(kind), f"an action of type {kind}")


def _reached_as(parent: pikepdf.Object, key: str, parent_reached_as: int) -> int:
    if key == "/A" and parent.get("/Subtype") == pikepdf.Name.Link:
        return _LINK
    if key == "/Next":
        return parent_reached_as or _ACTION
    return _ACTION if key in _ACTION_KEYS else _DATA


def active_content(pdf: pikepdf.Pdf) -> str | None:
    """What active content the document holds (the first found, in words), or None when clean.

    Walks every object reachable from the trailer, once each, without recursion.
    """
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[pikepdf.Object, int]] = [(pdf.trailer, _DATA)]
    visited = 0
    while stack:
        obj, reached_as = stack.pop()
        if not isinstance(obj, pikepdf.Object):  # numbers and booleans come back as Python values
            continue
        if obj.is_indirect:
            if obj.objgen in seen:
                # Walked already, perhaps not as an action: one reached again as an action is judged as one.
                if reached_as != _DATA and isinstance(obj, pikepdf.Dictionary):
                    problem = _action_problem(obj, reached_as)
                    if problem:
                        return problem
                continue
            seen.add(obj.objgen)
        visited += 1
        if visited > MAX_OBJECTS:
            raise RefusedPdf("pdf_too_complex")
        if isinstance(obj, pikepdf.Array):
            stack.extend((item, reached_as) for item in obj)
            continue
        if not isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            continue
        if reached_as != _DATA or obj.get("/Type") == pikepdf.Name.Action:
            problem = _action_problem(obj, reached_as or _ACTION)
            if problem:
                return problem
        web_link = reached_as == _LINK and _is_web_link(obj)
        for key, value in obj.items():
            if web_link and key in ("/S", "/URI"):
                continue
            if key in _ACTIVE_KEYS:
                return _ACTIVE_KEYS[key]
            if isinstance(value, pikepdf.Name):
                if key == "/S" and str(value) in _ACTION_NAMES:
                    return _ACTION_NAMES[str(value)]
                if key in ("/Type", "/Subtype") and str(value) in _ACTIVE_TYPES:
                    return _ACTIVE_TYPES[str(value)]
                continue
            if key == "/URI" and isinstance(value, pikepdf.String):
                return _ACTION_NAMES["/URI"]
            stack.append((value, _reached_as(obj, key, reached_as)))
    return None


def write_clean(pdf: pikepdf.Pdf, out: IO[bytes]) -> None:
    """Write the parsed document (only what was checked, unencrypted) to ``out``."""
    pdf.save(cast(BinaryIO, out), encryption=False)  # BinaryIO: as in checked()
