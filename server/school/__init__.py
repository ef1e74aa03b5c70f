"""The school itself: its people, classes, access rules, settings and audit log."""
