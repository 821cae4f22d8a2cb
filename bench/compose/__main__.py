from bench.compose.run import main

raise SystemExit(main())
