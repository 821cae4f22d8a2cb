"""The assistant: triage on arrival, learned priority, summaries, reply drafts and analysis.

`local` (the default) answers from libraries and models shipped in this package and sends
nothing anywhere; `openai` speaks to any OpenAI-compatible server and falls back to `local`
whenever the remote answer is missing, late, invalid or over budget. See docs/ai.md.
"""
