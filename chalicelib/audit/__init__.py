"""The audit log: who did what, when, from where, to what (SPEC §6a)."""
