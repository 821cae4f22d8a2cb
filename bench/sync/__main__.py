from bench.sync.cli import main

# Guarded: the MIME parse pool starts its processes with forkserver, which imports this module
# again (as __mp_main__) in each of them.
if __name__ == "__main__":
    raise SystemExit(main())
