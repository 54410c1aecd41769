"""`python -m whereabouts`: the command line."""

from whereabouts.cli import main

main()
