from voicefs.cli import main

raise SystemExit(main())
