"""`python -m inmet_local` is the `inmet` command."""

from inmet_local.cli import main

main()
