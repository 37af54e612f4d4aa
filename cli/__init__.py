"""商工会CLI (operator CLI): every operator task over the HTTP API, local stack or deployed stage.

    .venv/bin/python -m cli [--api URL] [--login-id ID] <group> <command> ...

Invariants:

- It speaks only the public HTTP API (``/v1/admin/...``), so it works the same against
  ``make run`` and a deployed stage, and every rule (validation, idempotency, roles) is the server's.
  It is never deployed: only ``app.py`` and ``chalicelib/`` are.
- The password never appears on the command line (it would show in ``ps`` and shell history): it
  comes from ``ONAGAWA_PASSWORD`` or is asked for with a hidden prompt.
- Expected failures (API errors, bad files, no connection) print the API's Japanese message and
  code and exit 1, never a stack trace. Exit 2 is a usage error (click).
- ``grants bulk`` sends each good row with the grant id derived from the row
  (:func:`chalicelib.payments.grants.parse_bulk_csv`), so running the same file again grants nothing
  twice: the API answers a known grant id with ``Idempotent-Replayed: true``.

Layout: :mod:`cli.client` (the HTTP client and its errors), :mod:`cli.context` (what each command
is handed), :mod:`cli.files` and :mod:`cli.output` (local files and printing), ``cli/commands/``
(one module per group), :mod:`cli.main` (the root group).
"""
