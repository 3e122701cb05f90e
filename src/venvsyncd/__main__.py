from venvsyncd.cli import main

raise SystemExit(main())
