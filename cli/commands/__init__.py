"""One module per command group; :mod:`cli.main` adds each group to the root."""
