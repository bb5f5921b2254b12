"""The core: the domain and its rules, no I/O (no database, files, network or models).

Imports nothing from intake.service or intake.entry."""
