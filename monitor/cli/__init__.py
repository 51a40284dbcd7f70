"""The `monitor` command line: one module per sub-command, wired in `monitor.cli.main`."""
