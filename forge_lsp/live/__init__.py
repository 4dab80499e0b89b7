"""Keeping the graph fresh while the workspace changes: scheduler, updater thread, watcher, query cache."""
