"""A tiny shared kernel: errors, pagination, time formatting, hashing, logging and request plumbing."""
