"""Background jobs: the registry of jobs, the broker that carries them, and the worker process."""
