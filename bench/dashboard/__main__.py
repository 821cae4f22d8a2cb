from bench.dashboard.run import main

raise SystemExit(main())
