"""``python -m exporter`` runs the same command line as ``easee-exporter``."""

from exporter.cli import main

raise SystemExit(main())
