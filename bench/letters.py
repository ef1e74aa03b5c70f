"""Invite letters: how long a whole school's letters take to render (one A4 page per guardian slot).

```
.venv/bin/python bench/letters.py                # 700 letters, families in eight languages
.venv/bin/python bench/letters.py --letters 60   # one class
```

Times :func:`server.school.letter_pdf.letters_pdf` alone (fonts, shaping, QR codes, the PDF),
not the invite codes' database writes. Prints seconds, milliseconds per letter and the size.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.school.letter_pdf import letters_pdf
from server.school.letters import Letter
from server.timeutil import utcnow

LANGUAGES = ["en", "pl", "ar", "ur", "bn", "pa", "ro", "so"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--letters", type=int, default=700)
    args = parser.parse_args()
    expires = utcnow() + timedelta(days=14)
    letters = [
        Letter("Riverside Primary", "Year 4 Oak", f"Pupil {i}", f"Parent {i}", LANGUAGES[i % 8],
               f"ABCDE-{i:05d}", expires)
        for i in range(args.letters)
    ]  # fmt: skip
    started, cpu = time.perf_counter(), time.process_time()
    pdf = letters_pdf(letters, "https://homeroom.example", "Europe/London")
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    each = 1000 * cpu / len(letters)
    print(
        f"{len(letters)} letters: {took:.1f} s ({cpu:.1f} s of CPU, {each:.0f} ms a letter),",
        f"{len(pdf) // 1024} KiB",
    )


if __name__ == "__main__":
    main()
