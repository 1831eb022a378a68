"""One module per command: each has build_parser(), run(args) and main(); heavy imports stay inside run."""
