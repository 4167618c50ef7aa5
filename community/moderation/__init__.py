"""Reports and moderation: reports from anyone signed in, the moderators' queue and actions
(disable a repository, suspend an account, hide a comment, lock a discussion), the public log, and
the affected owner's one appeal per action."""
