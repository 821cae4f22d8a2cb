from bench.mail.threads import main

raise SystemExit(main())
