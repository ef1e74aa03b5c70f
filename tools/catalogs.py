"""Interface catalogs: ``extract`` the template, ``update`` every ``.po``, ``compile``, ``check``.

    python tools/catalogs.py extract   # server/ + web/js → server/language/catalogs/homeroom.pot
    python tools/catalogs.py update    # extract, then bring every language's .po up to the template
    python tools/catalogs.py compile   # .po → .mo (server) and hashed JSON (web client)
    python tools/catalogs.py check     # fails when the template or a .po is stale against the sources
    python tools/catalogs.py add xx    # start a new language's .po (then add it to LANGUAGES)
    python tools/catalogs.py status    # translated/total per language

The same as ``pybabel extract -F babel.cfg -k text:2 -k plural:2,3 -k N_ ...``; kept in one
place (:mod:`server.language.catalogs`) so the tool, the server and the tests agree.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.language import catalogs


def stale_messages() -> list[str]:
    """What differs between a fresh extraction and the committed template and catalogs."""
    fresh = catalogs.extract()
    wanted = {m.id for m in fresh if m.id}
    problems: list[str] = []
    if not catalogs.TEMPLATE.exists():
        return ["the template is missing: run tools/catalogs.py update"]
    template = {m.id for m in catalogs.read(catalogs.TEMPLATE) if m.id}
    for missing in sorted(map(str, wanted - template))[:20]:
        problems.append(f"homeroom.pot lacks {missing!r}")
    for extra in sorted(map(str, template - wanted))[:20]:
        problems.append(f"homeroom.pot still has {extra!r}")
    for language in catalogs.LANGUAGES:
        path = catalogs.po_path(language)
        if not path.exists():
            problems.append(f"{language}: no catalog")
            continue
        ids = {m.id for m in catalogs.read(path, language) if m.id}
        if ids != wanted:
            problems.append(f"{language}: {len(wanted - ids)} messages missing, {len(ids - wanted)} extra")
    return problems


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "extract":
        template = catalogs.extract()
        catalogs.write_template(template)
        print(f"{len([m for m in template if m.id])} messages → {catalogs.TEMPLATE}")
    elif command == "update":
        template = catalogs.extract()
        catalogs.write_template(template)
        catalogs.update(template)
        print(f"{len([m for m in template if m.id])} messages; {len(catalogs.LANGUAGES)} catalogs updated")
    elif command == "add":
        catalogs.update(catalogs.read(catalogs.TEMPLATE), [argv[1]])
        print(f"created {catalogs.po_path(argv[1])}; add '{argv[1]}' to catalogs.LANGUAGES")
    elif command == "compile":
        manifest = catalogs.compile_all()
        for language, entry in sorted(manifest.items()):
            print(f"{language}: {entry['translated']}/{entry['total']} → {entry['file']}")  # type: ignore[index]
    elif command == "check":
        problems = stale_messages()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("catalogs are stale: run `python tools/catalogs.py update`", file=sys.stderr)
            return 1
        print("catalogs match the sources")
    elif command == "status":
        for language in catalogs.LANGUAGES:
            done, total = catalogs.completeness(catalogs.read(catalogs.po_path(language), language))
            print(f"{language}: {done}/{total}")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
