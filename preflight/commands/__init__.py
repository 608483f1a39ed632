"""One module per ``preflight`` subcommand; each is thin: parse, call one function, render, exit."""
