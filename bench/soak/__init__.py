"""Memory soak: server RSS under 200 WebSockets plus API load, then idle."""
