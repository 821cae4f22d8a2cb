from bench.push.run import main

raise SystemExit(main())
