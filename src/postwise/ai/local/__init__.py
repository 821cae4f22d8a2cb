"""The local provider's tasks: offline, from rules and models shipped in this package."""
