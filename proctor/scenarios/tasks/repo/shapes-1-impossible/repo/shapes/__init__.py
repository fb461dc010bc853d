"""Small geometry helpers: a repository for `proctor tasks synthesize` to make tasks from."""
