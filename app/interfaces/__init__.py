"""The ways in: the command line and the chat window (with its HTML and static files)."""
