from bench.ai.cli import main

# Guarded: the parse and triage pools start their processes with forkserver, which imports this
# module again (as __mp_main__) in each of them.
if __name__ == "__main__":
    raise SystemExit(main())
