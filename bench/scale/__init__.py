"""Scale-out: throughput and p95 per route with one and with two API processes."""
