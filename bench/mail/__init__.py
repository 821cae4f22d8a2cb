"""Thread list latency under concurrent clients (issue 5's thread list figure)."""
