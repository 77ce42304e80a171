"""bench/run_all.py's modules, one per responsibility (bench/README.md, "The one command")."""
