"""School events, replies and consent, reminders, the iCalendar feed and absence reports (issue #18).

- :mod:`.occurrences` — pure date arithmetic: a weekly event's occurrences, closure days, due reminders
- :mod:`.events` — events of a class or the school: who reads and changes them, their shape
- :mod:`.responses` — guardians' RSVP and consent answers, the staff's list, the nudge
- :mod:`.reminders` — the leased job that sends each reminder once per reader
- :mod:`.ical` — the private feed tokens and the RFC 5545 document
- :mod:`.absences` — absence reports to the office (P8), the office's list and its CSV

No HTTP here (that is ``server/api/events.py`` and ``server/api/absences.py``).
"""
