from bench.auth.cli import main

raise SystemExit(main())
