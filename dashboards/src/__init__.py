"""The dashboards\x27 source: one module per dashboard, plus shared pieces and the pictures."""
