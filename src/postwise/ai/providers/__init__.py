"""Providers: `local` (in this package, offline) and `openai` (any OpenAI-compatible server)."""
