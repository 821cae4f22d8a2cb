"""APPEND → WebSocket event latency (issue 5's push figure)."""
