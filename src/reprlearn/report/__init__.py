"""Reports: ``compare`` orchestration, its plots and the self-contained HTML page."""
